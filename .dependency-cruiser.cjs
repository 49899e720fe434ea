// The import rules of DESIGN.md ("Dependency direction"), checked in CI by `npm run check:deps`.
// An arrow means "may import"; arrows compose. Everything not allowed here is forbidden.
const layers = {
  cli: ['scenario', 'k8s', 'apps', 'net', 'sim', 'packet', 'capture', 'pcap', 'compare', 'parity', 'explain'],
  compare: ['scenario', 'k8s', 'apps', 'net', 'sim', 'packet', 'capture', 'pcap'],
  parity: ['scenario', 'k8s', 'apps', 'net', 'sim', 'packet', 'capture', 'pcap', 'compare'],
  explain: ['scenario', 'k8s', 'apps', 'net', 'sim', 'packet', 'capture', 'pcap'],
  scenario: ['k8s', 'apps', 'net', 'sim', 'packet', 'capture', 'pcap'],
  k8s: ['apps', 'net', 'sim', 'packet'],
  apps: ['net', 'sim', 'packet'],
  net: ['sim', 'packet'],
  sim: [],
  capture: ['pcap', 'packet', 'net'],
  pcap: ['packet'],
  packet: [],
};

// Arrows compose (DESIGN.md): what A may import, and what that may import, A may import too —
// except through capture → net, which is for types only.
function closure(from, seen = new Set()) {
  for (const to of layers[from]) {
    if (seen.has(to)) continue;
    seen.add(to);
    if (!(from === 'capture' && to === 'net')) closure(to, seen);
  }
  return [...seen];
}
for (const k of Object.keys(layers)) layers[k] = closure(k);

const forbidden = Object.entries(layers).map(([from, allowed]) => ({
  name: `${from}-imports-only-${allowed.join('-') || 'itself'}`,
  comment: `src/${from} may import only: ${allowed.join(', ') || 'nothing else of ours'} (DESIGN.md)`,
  severity: 'error',
  from: { path: `^src/${from}/` },
  to: { path: '^src/', pathNot: [`^src/${from}/`, '^src/types/', ...allowed.map((a) => `^src/${a}/`)] },
}));

module.exports = {
  forbidden: [
    ...forbidden,
    // A type-only import back into a module (a device naming its netns's interface) is not a cycle
    // at run time; runtime cycles are what this rule forbids.
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } } },
    {
      name: 'capture-uses-net-types-only',
      comment: 'capture/ sees net/ through types only (the Tap interface); net/ never constructs a capture',
      severity: 'error',
      from: { path: '^src/capture/' },
      to: { path: '^src/net/', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
