import path from 'node:path';
import express from 'express';
import { EXAMPLE_PERSONAL_CODE, ideExamples } from './ide-examples';

/**
 * The GraphQL IDE (GraphiQL), served entirely from this process: Apollo's default landing page loads
 * from a CDN, which a government network blocks. The page, its bootstrap script and the React and
 * GraphiQL bundles all come from the project and node_modules, under a CSP that allows nothing else.
 * The page asks for a bearer token (kept in the tab's sessionStorage, sent with every request) and opens
 * with the example of the token's role and purpose (gateway/ide-examples.ts, served as /ide/examples.json).
 */
// Package folders, not require.resolve of the files: the packages' "exports" do not list their UMD bundles.
// Each package named literally, so that the build's import graph (test/runtime-dependencies.test.ts) sees it.
const GRAPHIQL = path.dirname(require.resolve('graphiql/package.json'));
const REACT = path.dirname(require.resolve('react/package.json'));
const REACT_DOM = path.dirname(require.resolve('react-dom/package.json'));
const ASSETS: Record<string, string> = {
  'graphiql.min.css': path.join(GRAPHIQL, 'graphiql.min.css'),
  'graphiql.min.js': path.join(GRAPHIQL, 'graphiql.min.js'),
  'react.production.min.js': path.join(REACT, 'umd/react.production.min.js'),
  'react-dom.production.min.js': path.join(REACT_DOM, 'umd/react-dom.production.min.js'),
};

/** What the gateway's own pages may load: their own files, from this origin, and nothing else (the statistics page too). */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
].join('; ');

export function ideRouter(supergraphSdl: string): express.Router {
  const router = express.Router();
  const page = path.join(__dirname, 'ide', 'index.html');
  const examples = JSON.stringify({ examples: ideExamples(supergraphSdl), examplePersonalCode: EXAMPLE_PERSONAL_CODE });
  router.get('/ide/examples.json', (_req, res) => void res.type('application/json').send(examples));
  router.get(['/', '/ide'], (_req, res) => {
    res.set('Content-Security-Policy', PAGE_CSP).sendFile(page);
  });
  // No icon: an empty answer rather than a 404 in every browser console.
  router.get('/favicon.ico', (_req, res) => void res.status(204).end());
  router.get('/ide/start.js', (_req, res) => res.sendFile(path.join(__dirname, 'ide', 'start.js')));
  router.get('/ide/assets/:file', (req, res) => {
    const file = ASSETS[req.params.file];
    if (!file) return void res.status(404).end();
    res.set('Cache-Control', 'public, max-age=86400').sendFile(file);
  });
  return router;
}
