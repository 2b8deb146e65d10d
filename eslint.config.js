// Lint over all of the code: src/, stages/, bench/ and test/ (`npm run lint`). Formatting is
// prettier's (`npm run format:check`), not eslint's.
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";

// An unused name is an error unless it starts with `_` (a deliberately ignored argument or field).
const unused = [
  "error",
  { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_", ignoreRestSiblings: true },
];

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**"] },
  {
    files: ["src/**/*.{ts,tsx}", "stages/**/*.ts", "bench/**/*.ts"],
    extends: [tseslint.configs.recommended],
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": unused,
    },
  },
  // The wizard: React's hook rules catch callbacks and effects that loop or go stale.
  {
    files: ["src/ui/**/*.{ts,tsx}"],
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      "react-hooks/rules-of-hooks": "error",
      "react-hooks/exhaustive-deps": "error",
    },
  },
  // Tests read the CLI's JSON envelopes and journals, which are untyped by nature: `any` is allowed there.
  {
    files: ["test/**/*.{ts,tsx}"],
    extends: [tseslint.configs.recommended],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": unused,
    },
  },
);
