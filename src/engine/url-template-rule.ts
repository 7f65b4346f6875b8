/**
 * The validation half of the URL origin rule (url-origin.ts): an http node's `url` whose templates could
 * write the scheme, host or port from anything but a configuration value at the very start is refused with
 * FLOWPOOL_INVALID_WORKFLOW before anything runs, naming the node and field (the schema check reports it
 * under `url`). A leading `{{ const.x }}` / `{{ variable.x }}` is taken to end at an origin, so a template
 * right after it (`{{ const.base }}{{ input }}`) is refused too; the run-time check catches the rest.
 */
import { inOrigin, isConfigReference } from './url-origin.js';
import { parseReference } from './templates.js';

const TEMPLATE = /\{\{\s*([^{}]*?)\s*\}\}/g;
/** Stands for a leading configuration value when judging what follows it. */
const CONFIGURED_ORIGIN = 'configured://origin';

/** The first template in `url` that may not stand where it is, with the reason; undefined when all may. */
export function urlTemplateProblem(url: string): string | undefined {
  let before = '';
  let last = 0;
  for (const match of url.matchAll(TEMPLATE)) {
    before += url.slice(last, match.index);
    last = match.index + match[0].length;
    const reference = parseReference(match[1] ?? '', match[0]);
    if (reference === undefined || typeof reference === 'string') {
      before += match[0];
      continue;
    }
    if (!inOrigin(before)) {
      before += 'value';
      continue;
    }
    if (before === '' && isConfigReference(reference.kind)) {
      before = CONFIGURED_ORIGIN;
      continue;
    }
    return before === ''
      ? `template ${match[0]} would choose the URL's origin from data: only a {{ const.* }} or {{ variable.* }} template may start a URL (put data in the path or query)`
      : `template ${match[0]} stands in the URL's scheme, host or port: a template may stand there only as the whole start of the URL, from a {{ const.* }} or {{ variable.* }} value`;
  }
  return undefined;
}
