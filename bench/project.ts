/**
 * The project measured, as users install it: the package `npm pack`ed and installed from the tarball into a temporary
 * directory, beside examples/platform-fleet (copied unchanged), so that `__provider` is the short form users get.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PULUMI_VERSION } from "../test/pulumi/install";
import type * as Provider from "../provider";
import { ROOT } from "../test/support/state";

/** The provider text exactly as @pulumi/pulumi's dynamic.Resource makes it, from the project's own copies. */
const SERIALIZER = `
const sc = require("@pulumi/pulumi/runtime/closure/serializeClosure");
const sdk = require(require("path").join(process.cwd(), "node_modules/pulumi-wechat/dist/sdk/authorizerOption.js"));
const provider = sdk.authorizerOptionProvider;
sc.serializeFunction(() => provider, { allowSecrets: true }).then((s) => process.stdout.write(s.text));
`;

/**
 * What part 2 compares the real provider with, run in the host as `__provider` text (so they use nothing from this
 * module), both loading the installed package: a provider doing nothing (the cost of any dynamic provider), and the
 * package's real provider built by `providersWith` with a transport that answers from memory (all but the exchange).
 */
function noop() {
  module.require("pulumi-wechat/provider");
  return {
    check: async (_olds: object, news: object) => ({ inputs: news }),
    create: async (inputs: object) => ({ id: "noop", outs: inputs }),
  };
}
function inMemory() {
  // One answer that each endpoint's (loose) answer schema accepts.
  const body = '{"errcode":0,"component_access_token":"t","authorizer_access_token":"t","expires_in":7200,"option_value":"0"}';
  const { providersWith } = module.require("pulumi-wechat/provider") as typeof Provider;
  return providersWith({ transport: async () => ({ statusCode: 200, body }) }).authorizerOption;
}

export type BenchProject = ReturnType<typeof createProject>;

export function createProject() {
  // The directory's name must not contain "pulumi-wechat": Pulumi's serializer looks a module's package.json up by
  // the first occurrence of the package name in its path, so there the SDK would hand over its longer stub.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wechat-bench-"));
  const started = Date.now();
  const npm = (args: string[], cwd: string) =>
    execFileSync("npm", args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_loglevel: "error" } });
  const tarball = path.join(dir, npm(["pack", "--silent", "--pack-destination", dir], ROOT).trim().split("\n").pop()!);
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "wechat-bench-project", private: true }));
  process.stderr.write(`installing ${path.basename(tarball)} and @pulumi/pulumi@${PULUMI_VERSION} into ${dir}\n`);
  npm(["install", "--prefer-offline", "--no-audit", "--no-fund", tarball, `@pulumi/pulumi@${PULUMI_VERSION}`], dir);
  for (const file of ["Pulumi.yaml", "index.ts"])
    fs.copyFileSync(path.join(ROOT, "examples", "platform-fleet", file), path.join(dir, file));
  const installMs = Date.now() - started;
  const env = { ...process.env, NODE_NO_WARNINGS: "1" };
  const providerText = execFileSync(process.execPath, ["-e", SERIALIZER], { cwd: dir, encoding: "utf8", env });
  return {
    dir,
    /** What the JSON result records of the project: `providerText` is AuthorizerOption's as the SDK serializes it here. */
    recorded: { tarballBytes: fs.statSync(tarball).size, installMs, providerBytes: Buffer.byteLength(providerText), providerText },
    hostTexts: { provider: providerText, "no-I/O": `exports.handler = ${noop};\n`, "in memory": `exports.handler = ${inMemory};\n` },
  };
}
