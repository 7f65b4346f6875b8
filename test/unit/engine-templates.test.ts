/**
 * Templates, pure: lookups only (no evaluation), paths into parsed values, URL encoding where a value
 * lands in a path or query, Go's rule for missing variables/constants (kept as written), a node error
 * naming a missing input or node reference, and the validation rules (`input` needs an edge, a node
 * reference must be upstream).
 */
import { describe, expect, it } from 'vitest';
import {
  createRegistry,
  NodeError,
  renderTemplate,
  renderValue,
  validateWorkflow,
  WorkflowValidationError,
  type TemplateScope,
} from '../../dist/src/engine/index.js';
import { urlTemplateProblem } from '../../dist/src/engine/url-template-rule.js';

const scope: TemplateScope = {
  inputs: ['a b/c?d', 'second'],
  outputs: new Map<string, unknown>([
    ['fetch', { items: [{ id: 7, name: 'x y' }], 'a key': true, empty: null }],
    ['text', 'plain'],
  ]),
  variables: new Map<string, unknown>([['user', 'ada']]),
  constants: new Map<string, unknown>([
    ['base', 'http://127.0.0.1:8080/api'],
    ['n', 15],
  ]),
};

function failure(run: () => unknown): NodeError {
  try {
    run();
  } catch (error) {
    if (error instanceof NodeError) return error;
    throw error;
  }
  throw new Error('expected a NodeError');
}

describe('renderTemplate', () => {
  it.each([
    ['hello {{ variable.user }}', 'hello ada'],
    ['{{const.n}} items', '15 items'],
    ['first: {{ input }}', 'first: a b/c?d'],
    ['{{ nodes.fetch.output.items[0].id }}', '7'],
    ['{{ nodes.fetch.output["a key"] }}', 'true'],
    ['{{ nodes.fetch.output.empty }}', 'null'],
    ['{{ nodes.fetch.output.items }}', '[{"id":7,"name":"x y"}]'],
    ['{{ nodes.text.output }}', 'plain'],
    ['no templates', 'no templates'],
    ['{{ variable.missing }} stays as Go leaves it', '{{ variable.missing }} stays as Go leaves it'],
    ['{{ process.exit(1) }} is not a template', '{{ process.exit(1) }} is not a template'],
    ['{{ input.constructor }}', undefined],
  ])('%j -> %j', (text, expected) => {
    if (expected === undefined) expect(() => renderTemplate(text, scope)).toThrow(NodeError);
    else expect(renderTemplate(text, scope)).toBe(expected);
  });

  it('URL-encodes values in the path and query, and writes a base URL from a constant as is', () => {
    expect(
      renderTemplate('http://127.0.0.1/items/{{ input }}?q={{ nodes.fetch.output.items[0].name }}', scope, 'url'),
    ).toBe('http://127.0.0.1/items/a%20b%2Fc%3Fd?q=x%20y');
    expect(renderTemplate('{{ const.base }}/users/{{ variable.user }}', scope, 'url')).toBe(
      'http://127.0.0.1:8080/api/users/ada',
    );
  });

  it('lets only a const/variable at the very start write the origin; data there is TEMPLATE_INVALID_VALUE', () => {
    const hostile: TemplateScope = { ...scope, inputs: [':18081/stolen'] };
    for (const text of ['http://api.test{{ input }}', 'http://{{ variable.user }}.example.com/x', '{{ input }}/x'])
      expect(failure(() => renderTemplate(text, hostile, 'url')).code).toBe('TEMPLATE_INVALID_VALUE');
    expect(renderTemplate('{{ const.base }}/{{ input }}', hostile, 'url')).toBe(
      'http://127.0.0.1:8080/api/%3A18081%2Fstolen',
    );
  });

  it.each([
    ['http://api.test{{ nodes.f.output.next }}', /stands in the URL's scheme, host or port/],
    ['http://api.test:{{ const.port }}/x', /stands in the URL's scheme, host or port/],
    ['https://{{ variable.host }}/x', /stands in the URL's scheme, host or port/],
    ['{{ input }}', /would choose the URL's origin from data/],
    ['{{ nodes.f.output.url }}/x', /would choose the URL's origin from data/],
    ['{{ const.base }}{{ input }}', /stands in the URL's scheme, host or port/],
    ['{{ const.base }}.evil.test/{{ input }}', undefined],
    ['{{ const.base }}/items/{{ input }}?q={{ nodes.f.output.q }}', undefined],
    ['{{ variable.base }}', undefined],
    ['https://api.test/{{ input }}#{{ input }}', undefined],
    ['https://api.test?x={{ input }}', undefined],
  ])('validation rule for %s', (url, problem) => {
    if (problem === undefined) expect(urlTemplateProblem(url)).toBeUndefined();
    else expect(urlTemplateProblem(url)).toMatch(problem);
  });

  it('refuses a "." or ".." path segment from a value (encoding cannot neutralise it)', () => {
    const dots: TemplateScope = { ...scope, inputs: ['..'] };
    expect(failure(() => renderTemplate('http://127.0.0.1/api/{{ input }}/admin', dots, 'url')).code).toBe(
      'TEMPLATE_INVALID_VALUE',
    );
    expect(renderTemplate('http://127.0.0.1/api?x={{ input }}', dots, 'url')).toBe('http://127.0.0.1/api?x=..');
  });

  it('fails with TEMPLATE_MISSING_REFERENCE naming the reference', () => {
    const noInput = failure(() => renderTemplate('x {{ input }}', { ...scope, inputs: [] }));
    expect(noInput.code).toBe('TEMPLATE_MISSING_REFERENCE');
    expect(noInput.message).toBe('template {{ input }}: the node has no input');
    expect(failure(() => renderTemplate('{{ nodes.gone.output }}', scope)).message).toBe(
      'template {{ nodes.gone.output }}: node "gone" has no output (it did not succeed)',
    );
    expect(failure(() => renderTemplate('{{ nodes.fetch.output.items[3].id }}', scope)).message).toBe(
      'template {{ nodes.fetch.output.items[3].id }}: nothing at .items[3] (an array of 1 there)',
    );
  });
});

describe('renderValue (JSON bodies)', () => {
  it('keeps the type of a value that is a whole template, renders text elsewhere', () => {
    expect(
      renderValue(
        { id: '{{ nodes.fetch.output.items[0].id }}', note: 'user {{ variable.user }}', list: ['{{ const.n }}'] },
        scope,
      ),
    ).toEqual({ id: 7, note: 'user ada', list: [15] });
  });
});

describe('template references at validation', () => {
  const registry = createRegistry();
  function refusal(input: unknown): string {
    try {
      validateWorkflow(input, registry);
    } catch (error) {
      if (error instanceof WorkflowValidationError) return error.message;
      throw error;
    }
    throw new Error('expected a refusal');
  }

  it('accepts a reference to an upstream node, refuses one to a node that is not upstream or missing', () => {
    const nodes = [
      { id: 'a', data: { url: 'http://127.0.0.1/a' } },
      { id: 'b', data: { url: 'http://127.0.0.1/b' } },
      { id: 'c', data: { url: 'http://127.0.0.1/c/{{ nodes.a.output.id }}' } },
    ];
    expect(() =>
      validateWorkflow(
        {
          nodes,
          edges: [
            { source: 'a', target: 'b' },
            { source: 'b', target: 'c' },
          ],
        },
        registry,
      ),
    ).not.toThrow();
    expect(refusal({ nodes, edges: [{ source: 'b', target: 'c' }] })).toContain(
      'node "c": data: template {{ nodes.a.output.id }}: no node "a" upstream of this one',
    );
  });

  it('does not read templates in context node data or labels (never rendered, as in Go)', () => {
    expect(() =>
      validateWorkflow(
        {
          nodes: [
            { id: 'c', data: { context_name: 'raw', context_value: '{{ input }}' } },
            { id: 't', data: { text: 'x', label: '{{ nodes.c.output }}' } },
          ],
        },
        registry,
      ),
    ).not.toThrow();
  });

  it('refuses {{ input }} on a node without incoming edges, and a malformed path', () => {
    expect(refusal({ nodes: [{ id: 'x', data: { url: 'http://127.0.0.1/{{ input }}' } }] })).toContain(
      'node "x": data: template {{ input }}: the node has no incoming edge',
    );
    expect(refusal({ nodes: [{ id: 'y', data: { text: '{{ input.[oops }}' } }] })).toContain(
      'node "y": data: {{ input.[oops }}: expected a path',
    );
  });
});
