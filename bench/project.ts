/**
 * The project the benchmark runs against, as users install it: the package `npm pack`ed (its own prepack build) and
 * installed from the tarball into a temporary directory, beside the example program examples/platform-fleet (copied
 * unchanged). Everything the provider host evaluates resolves from there, so `__provider` is the short
 * `require("pulumi-wechat/provider/...")` form.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const PULUMI_VERSION = "3.248.0";
const ROOT = path.resolve(__dirname, "..", "..");
const EXAMPLE = path.join(ROOT, "examples", "platform-fleet");

export interface BenchProject {
  dir: string;
  tarballBytes: number;
  installMs: number;
  /** The example's project name (the namespace of its own config keys). */
  projectName: string;
  /** `__provider` texts: AuthorizerOption as the SDK serializes it here, and the two of bench/providers.ts. */
  providerText: { real: string; noop: string; inMemory: string };
}

/** The provider text exactly as @pulumi/pulumi's dynamic.Resource makes it, from the project's own copies. */
const SERIALIZER = `
const sc = require("@pulumi/pulumi/runtime/closure/serializeClosure");
const sdk = require(require("path").join(process.cwd(), "node_modules/pulumi-wechat/dist/sdk/authorizerOption.js"));
const provider = sdk.authorizerOptionProvider;
sc.serializeFunction(() => provider, { allowSecrets: true }).then((s) => process.stdout.write(s.text));
`;

export function createProject(log: (line: string) => void): BenchProject {
  // The directory's name must not contain "pulumi-wechat": Pulumi's serializer looks a module's package.json up by
  // the first occurrence of the package name in its path, so there the SDK would hand over its longer stub.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wechat-bench-"));
  const started = Date.now();
  const npm = (args: string[], cwd: string) =>
    execFileSync("npm", args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_loglevel: "error" } });
  const tarball = path.join(dir, npm(["pack", "--silent", "--pack-destination", dir], ROOT).trim().split("\n").pop()!);
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "wechat-bench-project", private: true }));
  log(`installing ${path.basename(tarball)} and @pulumi/pulumi@${PULUMI_VERSION} into ${dir}`);
  npm(["install", "--prefer-offline", "--no-audit", "--no-fund", tarball, `@pulumi/pulumi@${PULUMI_VERSION}`], dir);
  for (const file of ["Pulumi.yaml", "index.ts"]) fs.copyFileSync(path.join(EXAMPLE, file), path.join(dir, file));
  const env = { ...process.env, NODE_NO_WARNINGS: "1" };
  const bench = (name: string) =>
    `exports.handler = function () { return require(${JSON.stringify(path.join(__dirname, "providers.js"))}).${name}; };\n`;
  return {
    dir,
    tarballBytes: fs.statSync(tarball).size,
    installMs: Date.now() - started,
    projectName: /^name:\s*(\S+)/m.exec(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"))![1],
    providerText: {
      real: execFileSync(process.execPath, ["-e", SERIALIZER], { cwd: dir, encoding: "utf8", env }),
      noop: bench("noop"),
      inMemory: bench("inMemory"),
    },
  };
}
