import { AsyncLocalStorage } from 'node:async_hooks';
import type { Request, RequestHandler } from 'express';

/**
 * The language of the messages a client reads: English or Vietnamese, chosen by the request's
 * Accept-Language header (English by default; `vi` and `vi-VN` give Vietnamese; q-values honoured, so
 * `en;q=0.5, vi;q=0.8` gives Vietnamese and `vi;q=0, en` English). Express's negotiation (the `accepts`
 * package) does the parsing; a language we do not have falls back to English.
 *
 * The language is held for the rest of the request in an AsyncLocalStorage, so that an error made anywhere
 * while serving it (a resolver, a loader, a plugin, formatError) speaks the caller's language without the
 * language being passed through every function. Outside a request (scripts, tests calling a function
 * directly) it is English.
 */
export const LANGUAGES = ['en', 'vi'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'en';

export function languageOf(req: Pick<Request, 'acceptsLanguages'>): Language {
  const chosen = req.acceptsLanguages(...LANGUAGES);
  return chosen === 'vi' ? 'vi' : DEFAULT_LANGUAGE;
}

export const isLanguage = (value: unknown): value is Language => value === 'en' || value === 'vi';

const current = new AsyncLocalStorage<Language>();

/** The language of the request being served (English outside one). */
export const currentLanguage = (): Language => current.getStore() ?? DEFAULT_LANGUAGE;

export const inLanguage = <T>(language: Language, run: () => T): T => current.run(language, run);

/**
 * Express middleware: the rest of the request runs in the caller's language, which the response names
 * (Content-Language; Vary, for caches). Put it after the body parser: Node's stream events lose the
 * async context, so a language set before the body is read would not survive to the GraphQL handler.
 */
export function callersLanguage(): RequestHandler {
  return (req, res, next) => {
    const language = languageOf(req);
    res.setHeader('content-language', language);
    res.vary('accept-language');
    current.run(language, next);
  };
}
