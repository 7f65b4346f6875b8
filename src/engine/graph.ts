/** Pure graph helpers for workflow validation. Iterative, so a long chain cannot overflow the stack. */

/**
 * A cycle among `ids` along `edges`, as the ids on it with the first repeated at the end
 * (`['a', 'b', 'a']`), or undefined when the graph is acyclic. Edges must name known ids.
 */
export function findCycle(
  ids: readonly string[],
  edges: readonly { readonly source: string; readonly target: string }[],
): string[] | undefined {
  const next = new Map<string, string[]>();
  for (const id of ids) next.set(id, []);
  for (const edge of edges) next.get(edge.source)?.push(edge.target);
  // 0: unvisited, 1: on the current path, 2: done.
  const state = new Map<string, 0 | 1 | 2>();
  for (const root of ids) {
    if ((state.get(root) ?? 0) !== 0) continue;
    const path: string[] = [root];
    const cursors: number[] = [0];
    state.set(root, 1);
    while (path.length > 0) {
      const depth = path.length - 1;
      const node = path[depth] as string;
      const targets = next.get(node) ?? [];
      const cursor = cursors[depth] ?? 0;
      if (cursor >= targets.length) {
        state.set(node, 2);
        path.pop();
        cursors.pop();
        continue;
      }
      cursors[depth] = cursor + 1;
      const target = targets[cursor] as string;
      const seen = state.get(target) ?? 0;
      if (seen === 1) return [...path.slice(path.indexOf(target)), target];
      if (seen === 0) {
        state.set(target, 1);
        path.push(target);
        cursors.push(0);
      }
    }
  }
  return undefined;
}
