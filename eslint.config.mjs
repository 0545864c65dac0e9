// ESLint flat config: `npm run lint` runs it over the TypeScript and JavaScript of the repository (formatting is
// Prettier's job, see .prettierrc.json).
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

/** Node.js globals for plain JavaScript files (TypeScript files get them from @types/node). */
const nodeGlobals = Object.fromEntries(
  [
    "process",
    "console",
    "Buffer",
    "require",
    "module",
    "exports",
    "__dirname",
    "__filename",
    "setTimeout",
    "clearTimeout",
    "setInterval",
    "clearInterval",
    "setImmediate",
    "URL",
    "fetch",
  ].map((name) => [name, "readonly"]),
);

export default defineConfig(
  {
    ignores: ["dist/", "coverage/", "**/node_modules/", "**/.pulumi-state/", "**/.pulumi/"],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    name: "pulumi-wechat/all",
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-empty": ["error", { allowEmptyCatch: true }],
      "no-throw-literal": "error",
      "prefer-const": "error",
      "object-shorthand": ["error", "properties"],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true },
      ],
      "@typescript-eslint/consistent-type-assertions": ["error", { assertionStyle: "as" }],
    },
  },
  {
    // The provider runs inside Pulumi's dynamic-provider host: it must not print (tokens travel in URLs).
    name: "pulumi-wechat/provider",
    files: ["provider/**/*.ts"],
    rules: {
      "no-console": "error",
    },
  },
  {
    name: "pulumi-wechat/javascript",
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: nodeGlobals },
    rules: {
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  {
    name: "pulumi-wechat/modules",
    files: ["**/*.mjs"],
    languageOptions: { sourceType: "module", globals: nodeGlobals },
  },
);
