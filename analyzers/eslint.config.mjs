// ThesisApp's own ESLint rules for generated frontends. Passed with --config, so a generated
// app's eslint.config.js (code that would run on the host) is never loaded.
import security from "eslint-plugin-security";

// What every ThesisApp config lints and how: modern JS and JSX, inline directives ignored.
export const base = {
  files: ["**/*.js", "**/*.jsx", "**/*.mjs", "**/*.cjs"],
  languageOptions: {
    ecmaVersion: "latest",
    sourceType: "module",
    parserOptions: { ecmaFeatures: { jsx: true } },
  },
  linterOptions: { noInlineConfig: true, reportUnusedDisableDirectives: "off" },
};

export default [
  {
    ...base,
    plugins: { security },
    rules: {
      ...security.configs.recommended.rules,
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      "no-script-url": "error",
    },
  },
];
