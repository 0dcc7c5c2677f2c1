// `npm run lint` (1/2): typescript-eslint's recommended rules and the import
// boundaries of docs/architecture.md (which module may talk to which library
// or tool). Import cycles are dpdm's (2/2: it sees `import type` cycles too,
// which eslint-plugin-import-x's no-cycle skips). Formatting is prettier's.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** A call that starts a process: execa('wg', …), spawn('ip', ['netns', 'exec', ns, 'wg', …]), … */
const RUNNERS = '/^(execa|execaSync|execaNode|spawn|spawnSync|execFile|execFileSync|exec|execSync)$/';
const RUNS_WG = [
  `CallExpression[callee.name=${RUNNERS}][arguments.0.value='wg']`,
  `CallExpression[callee.name=${RUNNERS}] > ArrayExpression.arguments > Literal[value='wg']`,
].map((selector) => ({ selector, message: 'only src/wg runs `wg` (everything else asks it through src/wg)' }));

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**', 'peers/**', '.bench/**'] },
  tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    rules: {
      // `_name` marks a parameter a signature needs and the body does not.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'argv', message: 'only src/cli parses argv (and the entry scripts of bench/, examples/, test/)' },
      ],
    },
  },
  {
    // Production code: each outside library or tool behind its one module.
    files: ['src/**/*.{ts,tsx}'],
    ignores: ['src/dns/**', 'src/netlink/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'dns2', message: 'only src/dns imports dns2' },
            { name: 'netlink', message: 'only src/netlink imports netlink' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/dns/**/*.{ts,tsx}'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'netlink', message: 'only src/netlink imports netlink' }] }] },
  },
  { files: ['src/netlink/**/*.{ts,tsx}'], rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'dns2', message: 'only src/dns imports dns2' }] }] } },
  { files: ['src/**/*.{ts,tsx}'], ignores: ['src/wg/**'], rules: { 'no-restricted-syntax': ['error', ...RUNS_WG] } },
  { files: ['src/cli/**/*.ts', 'bench/**/*.ts', 'examples/**/*.ts', 'test/**/*.ts'], rules: { 'no-restricted-properties': 'off' } },
  // Tests read parsed JSON answers field by field in their assertions.
  { files: ['test/**/*.{ts,tsx}', 'testkit/**/*.{ts,tsx}'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
