// The table page asks for every module the menu needs at once (modulepreload), so a phone on a
// slow network waits for one wave of files, not one per level of imports. This keeps the list in
// index.html equal to what app.js statically imports, directly or not. Run with `node --test assets/`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const assets = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function staticImports(file, seen = new Set()) {
  const source = readFileSync(file, 'utf8');
  for (const [, spec] of source.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)) {
    const target = resolve(dirname(file), spec);
    if (seen.has(target)) continue;
    seen.add(target);
    staticImports(target, seen);
  }
  return seen;
}

test('index.html preloads exactly the modules app.js imports', () => {
  const imported = [...staticImports(join(assets, 'customer/app.js'))].map((f) => relative(assets, f)).sort();
  const html = readFileSync(join(assets, 'customer/index.html'), 'utf8');
  const preloaded = [...html.matchAll(/rel="modulepreload" href="\{\{STATIC\}\}\/([^"]+)"/g)].map((m) => m[1]).sort();
  assert.deepEqual(preloaded, imported);
});

test('the pages loaded later are not on the first wave', () => {
  const imported = [...staticImports(join(assets, 'customer/app.js'))].map((f) => relative(assets, f));
  assert.ok(!imported.includes('customer/order-page.js'));
  assert.ok(!imported.includes('customer/favourites.js'));
});
