// Lint for async and dependency correctness, not taste (STYLE.md point 10). Import cycles are
// checked by scripts/check-import-cycles.mjs (part of `npm run lint`).
import tseslint from 'typescript-eslint';

/** Layer rules: a folder may not import the folders listed for it (DESIGN.md §1). */
const layers = {
  'src/policy/**': ['**/store/**', '**/slack/**', '**/orchestrator/**', '**/cli/**', '**/model/**', '**/local-workspace/**'],
  'src/store/**': ['**/slack/**', '**/orchestrator/**', '**/cli/**', '**/policy/**', '**/local-workspace/**'],
  'src/tools/**': ['**/slack/**', '**/orchestrator/**', '**/cli/**', '**/local-workspace/**'],
  'src/model/**': ['**/slack/**', '**/orchestrator/**', '**/cli/**', '**/store/**', '**/local-workspace/**'],
  'src/trace/**': ['**/slack/**', '**/orchestrator/**', '**/cli/**', '**/local-workspace/**'],
  'src/shared/**': ['**/slack/**', '**/orchestrator/**', '**/cli/**', '**/store/**', '**/policy/**', '**/local-workspace/**'],
  'src/orchestrator/**': ['**/slack/**', '**/cli/**', '**/local-workspace/**'],
  'src/approvals/**': ['**/slack/**', '**/cli/**', '**/local-workspace/**'],
  // The Slack adapter talks to the harness, never to the operator CLI, the admin socket or the
  // local workspace (which is a stand-in for Slack itself, reached only over the protocol).
  'src/slack/**': ['**/cli/**', '**/admin/**', '**/local-workspace/**', '**/bot/**'],
  'src/admin/**': ['**/slack/**', '**/cli/**', '**/local-workspace/**', '**/bot/**'],
  'src/agents/**': ['**/slack/**', '**/cli/**', '**/local-workspace/**', '**/admin/**'],
  'src/mcp/**': ['**/slack/**', '**/cli/**', '**/local-workspace/**', '**/admin/**'],
  // The local workspace plays Slack: it knows the wire protocol, not the harness behind the bot.
  'src/local-workspace/**': ['**/orchestrator/**', '**/store/**', '**/cli/**', '**/admin/**', '**/agents/**', '**/mcp/**', '**/policy/**'],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'data/**', 'coverage/**', 'test-artifacts/**', 'bin/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: "ImportDeclaration[source.value=/^(fs|path|crypto|http|net|os|child_process|events|url|util|stream|readline)$/]", message: 'Use the node: protocol.' },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-console': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'error',
    },
  },
  ...Object.entries(layers).map(([files, patterns]) => ({
    files: [files],
    rules: { 'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group: [group], message: 'Layer rule: see DESIGN.md §1.' })) }] },
  })),
  {
    files: ['src/config/**'],
    rules: {},
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/**'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Only src/config reads process.env.' }],
    },
  },
);
