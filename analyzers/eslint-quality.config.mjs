// ThesisApp's ESLint rules for the `quality` analysis of generated frontends: likely bugs
// (errors) and maintainability (warnings). Passed with --config, so a generated app's
// eslint.config.js (code that would run on the host) is never loaded.
import { base } from "./eslint.config.mjs";

export default [
  {
    ...base,
    rules: {
      "no-dupe-keys": "error",
      "no-duplicate-case": "error",
      "no-unreachable": "error",
      "no-self-compare": "error",
      "no-constant-condition": "error",
      "use-isnan": "error",
      "valid-typeof": "error",
      "no-unused-vars": "warn",
      "no-empty": "warn",
      "no-var": "warn",
      "prefer-const": "warn",
      "eqeqeq": "warn",
      "no-console": "warn",
      "complexity": ["warn", 10],
      "max-depth": ["warn", 4],
      "max-lines-per-function": ["warn", 80],
    },
  },
];
