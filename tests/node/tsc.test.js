'use strict';
// `tsc --strict` over every JS example of the README's Node and "Across processes" sections (as
// checked JavaScript, with `webmessaging` resolved to this package's index.d.ts) and over
// types/exact.ts, which pins the exact types (our MessageEvent, MessagePort, the extras).
// `make test-node` installs TypeScript and @types/node into a build directory and passes the
// compiler in WEBMESSAGING_TSC.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { ROOT, PKG } = require('./helpers');

const TSC = process.env.WEBMESSAGING_TSC;

// The ```js blocks of the README section whose heading starts with `heading` (none if absent).
function sectionExamples(readme, heading) {
  const start = readme.indexOf(`\n## ${heading}`);
  if (start === -1) return [];
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
}

// The Node section's examples, and the Node example of "Across processes".
function readmeExamples() {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  return [...sectionExamples(readme, 'Node'), ...sectionExamples(readme, 'Across processes')];
}

test('the README Node section has examples to check', () => {
  assert.ok(readmeExamples().length >= 2);
});

test('tsc --strict accepts every README Node example and the exact-types snippet',
  { skip: TSC === undefined && 'WEBMESSAGING_TSC not set (make test-node sets it)' }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wm-tsc-'));
    try {
      const files = readmeExamples().map((src, i) => {
        const f = path.join(dir, `readme-${i + 1}.js`);
        fs.writeFileSync(f, `// @ts-check\n${src}\nexport {};\n`);
        return f;
      });
      files.push(path.join(__dirname, 'types', 'exact.ts'));
      const typeRoots = path.join(path.dirname(path.dirname(path.dirname(TSC))), '@types');
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: {
          strict: true, noEmit: true, allowJs: true, checkJs: true, target: 'es2022',
          module: 'node16', moduleResolution: 'node16', esModuleInterop: true,
          typeRoots: [typeRoots], types: ['node'], skipLibCheck: false,
          baseUrl: dir, paths: { webmessaging: [path.join(PKG, 'index.d.ts')] },
        },
        files,
      }));
      try {
        execFileSync(process.execPath, [TSC, '-p', dir], { encoding: 'utf8' });
      } catch (err) {
        assert.fail(`tsc --strict failed:\n${err.stdout}${err.stderr}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
