import path from 'node:path';
import express from 'express';
import { buildSchema, getNamedType, isEnumType, isInputObjectType, isObjectType, type GraphQLEnumType } from 'graphql';
import { PROVINCES } from '../lib/provinces';
import { PAGE_CSP } from './ide';
import { STATISTICS_TABLE_TYPE } from './statistics-csv';

/**
 * The statistics page (issue 13), at /statistics: an analyst pastes a token, picks a measure, up to three dimensions,
 * a province and a year, and sees the table, a chart (a population pyramid for age × sex, bars otherwise) and a
 * CSV download of it. The page asks the gateway's own /graphql with the token, like any client, so every table it
 * shows is checked, audited and budgeted as any other. Everything it loads comes from this process: its HTML and
 * script (gateway/statistics-page/), and d3-scale with its d3 dependencies from node_modules for the scales and
 * ticks; the bars are SVG drawn by the page. The CSP is the IDE's: nothing from anywhere else.
 *
 * What the page offers is read from the supergraph (/statistics/page.json): every Query field returning a
 * statistics table, with its dimensions, so a measure another change adds appears without touching the page.
 */

/** The d3 modules the page loads, in dependency order (each UMD bundle extends the global `d3`). */
export const D3_MODULES = ['d3-array', 'd3-color', 'd3-interpolate', 'd3-format', 'd3-time', 'd3-time-format', 'd3-scale'] as const;
// The packages' "exports" list neither package.json nor dist/: from their entry point up to the package folder.
const umdBundle = (name: string) => path.join(path.dirname(require.resolve(name)), '..', 'dist', `${name}.min.js`);
export const PAGE_SCRIPTS = D3_MODULES.map((name) => `/statistics/assets/${name}.min.js`);

/** Dimensions the page's province and year choices filter on, for the measures that have one. */
const PROVINCE_DIMENSIONS = ['RESIDENCE_PROVINCE', 'PROVINCE'];
const YEAR_DIMENSIONS = ['BIRTH_YEAR', 'DEATH_YEAR', 'REGISTRATION_YEAR'];

export interface PageMeasure {
  /** The Query field, e.g. populationStatistics. */
  field: string;
  /** The first sentence of its description. */
  description: string;
  /** GraphQL type names of its arguments, for the page's query with variables. */
  groupByType: string;
  filterType: string | null;
  dimensions: { name: string; description: string }[];
  /** The dimension the page's province choice filters on, and its year choice; null where the measure has none. */
  provinceDimension: string | null;
  yearDimension: string | null;
}

export function statisticsPageMeasures(supergraphSdl: string): PageMeasure[] {
  const schema = buildSchema(supergraphSdl, { assumeValidSDL: true });
  const fields = Object.values(schema.getQueryType()?.getFields() ?? {});
  return fields.flatMap((field) => {
    const type = getNamedType(field.type);
    const groupBy = field.args.find((a) => a.name === 'groupBy');
    const filter = field.args.find((a) => a.name === 'filter');
    const dimensionEnum = groupBy && getNamedType(groupBy.type);
    if (!isObjectType(type) || type.name !== STATISTICS_TABLE_TYPE || !isEnumType(dimensionEnum)) return [];
    const filterType = filter && getNamedType(filter.type);
    const dimensions = (dimensionEnum as GraphQLEnumType).getValues().map((v) => ({ name: v.name, description: v.description ?? '' }));
    const names = dimensions.map((d) => d.name);
    return [
      {
        field: field.name,
        description: (field.description ?? '').split(/(?<=\.)\s/)[0].replace(/\s+/g, ' '),
        groupByType: dimensionEnum.name,
        filterType: isInputObjectType(filterType) ? filterType.name : null,
        dimensions,
        provinceDimension: PROVINCE_DIMENSIONS.find((d) => names.includes(d)) ?? null,
        yearDimension: YEAR_DIMENSIONS.find((d) => names.includes(d)) ?? null,
      },
    ];
  });
}

export function statisticsPageRouter(supergraphSdl: string): express.Router {
  const router = express.Router();
  const folder = path.join(__dirname, 'statistics-page');
  const page = JSON.stringify({
    measures: statisticsPageMeasures(supergraphSdl),
    provinces: Object.entries(PROVINCES).map(([code, name]) => ({ code, name })),
  });
  const assets = new Map(D3_MODULES.map((name) => [`${name}.min.js`, umdBundle(name)]));
  router.get('/statistics', (_req, res) => void res.set('Content-Security-Policy', PAGE_CSP).sendFile(path.join(folder, 'index.html')));
  router.get('/statistics/page.json', (_req, res) => void res.type('application/json').send(page));
  router.get('/statistics/page.js', (_req, res) => void res.sendFile(path.join(folder, 'page.js')));
  router.get('/statistics/assets/:file', (req, res) => {
    const file = assets.get(req.params.file);
    if (!file) return void res.status(404).end();
    res.set('Cache-Control', 'public, max-age=86400').sendFile(file);
  });
  return router;
}
