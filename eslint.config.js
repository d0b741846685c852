// ESLint: typescript-eslint's recommended rules (syntax only, not type-checked), for the whole tree.
// Formatting is Prettier's (.prettierrc.json); `npm run lint` runs both.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['node_modules/', 'dist/', '.cache/', 'coverage/', 'samples/', 'test/lab/build/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // Terminal control characters are this project's subject: the sanitizer and its tests match them on purpose.
      'no-control-regex': 'off',
      // A leading underscore marks a binding kept on purpose (destructuring to omit a field, a callback's unused argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
