// Vitest 5 prints failed tests with Map.groupBy, which Node 20 (Debian's and Ubuntu 22.04's
// NodeSource line) lacks: without this a failing test shows only a TypeError. Loaded by
// scripts/test.sh with --require; does nothing on Node 21 and later.
if (!Map.groupBy) {
  Map.groupBy = (items, key) => {
    const groups = new Map();
    let i = 0;
    for (const item of items) {
      const k = key(item, i++);
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(item);
    }
    return groups;
  };
}
if (!Object.groupBy) {
  Object.groupBy = (items, key) => {
    const groups = Object.create(null);
    let i = 0;
    for (const item of items) (groups[key(item, i++)] ??= []).push(item);
    return groups;
  };
}
