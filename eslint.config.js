// ESLint 9 flat config: typescript-eslint's recommended rules, plus a few type-aware rules that catch
// real defects in async Lambda code (a promise nobody awaits, an await on something that is not one).
// Formatting is Prettier's business (.prettierrc.json), so no stylistic rule is enabled here.
import comments from '@eslint-community/eslint-plugin-eslint-comments/configs';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['node_modules/', 'cdk.out/', 'coverage/', '.data/', '.tmp/', 'bench/results/', 'web/dist/'],
  },
  {
    linterOptions: {
      // An `eslint-disable` that no longer suppresses anything is noise; say so.
      reportUnusedDisableDirectives: 'error',
    },
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node },
    },
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  comments.recommended,
  {
    // CONVENTIONS: no eslint-disable without a reason on the same line (`// eslint-disable-line rule -- why`).
    rules: { '@eslint-community/eslint-comments/require-description': ['error', { ignore: ['eslint-enable'] }] },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        // One TypeScript program for the whole repository, from tsconfig.json (the one `tsc` checks).
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Type-aware, and each one a real defect in this code base: a Lambda that returns before its
      // write settles, an async callback where a sync one is expected, awaiting a non-promise.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  {
    rules: {
      // Unused bindings are usually leftovers; a leading underscore says "unused on purpose".
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // `==` only for `== null` (null or undefined), never between values.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // The XML reader strips the control characters XML 1.0 forbids, on purpose, and its tests build them.
      'no-control-regex': 'off',
      // Line breaks are Prettier's: it breaks a long chain before `[index]` (as eslint-config-prettier
      // notes, this rule then fights it), and with `semi: true` there is no ASI hazard for it to catch.
      'no-unexpected-multiline': 'off',
    },
  },
  {
    // Tests poke at parsed JSON (CloudFormation templates, API bodies): `any` there hides no defect.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Plain JavaScript (this file, the engine host): no type information.
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
