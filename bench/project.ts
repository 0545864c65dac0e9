/**
 * The project the benchmark runs against, as users install it: the package `npm pack`ed and installed from the
 * tarball into a temporary directory, beside the example program examples/platform-fleet (copied unchanged) with
 * an accounts file. Everything the provider host evaluates resolves from there, so `__provider` is the short
 * `require("pulumi-wechat/provider/...")` form.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Account, OPTION_KEYS, OPTION_NAMES } from "./fleet";

export const PULUMI_VERSION = "3.248.0";
const ROOT = path.resolve(__dirname, "..", "..");
const EXAMPLE = path.join(ROOT, "examples", "platform-fleet");

export interface BenchProject {
  dir: string;
  tarball: string;
  tarballBytes: number;
  /** The example's project name (the namespace of its own config keys). */
  projectName: string;
  /** The `__provider` text of AuthorizerOption as the SDK serializes it in this project. */
  providerText: string;
  /** A trivial dynamic provider with no I/O, for the baseline. */
  noopProviderText: string;
  /** The real provider with its HTTP exchange answered from memory. */
  stubbedProviderText: string;
  installMs: number;
}

function npm(args: string[], cwd: string): string {
  return execFileSync("npm", args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, npm_config_loglevel: "error" },
  });
}

/** A provider whose check passes the inputs through and whose create answers at once: host + gRPC cost only. */
export const NOOP_PROVIDER_TEXT = `exports.handler = function () { return provider; };
const provider = {
  check: async (olds, news) => ({ inputs: news }),
  create: async (inputs) => ({ id: inputs.authorizerAppId + "/" + inputs.optionName, outs: inputs }),
};
`;

/**
 * The real AuthorizerOption provider with got replaced by answers from memory: everything the provider does per
 * operation (check with zod, token lookup, the concurrency limit, the client's answer handling) except the HTTP
 * exchange itself. Measured against NOOP_PROVIDER_TEXT it is the provider's own overhead per operation.
 */
export const STUBBED_HTTP_PROVIDER_TEXT = `exports.handler = function () { return provider; };
const real = require("pulumi-wechat/provider/authorizer-option");
const { session } = require("pulumi-wechat/provider");
const answers = {
  "cgi-bin/component/api_component_token": '{"component_access_token":"stub-component-token","expires_in":7200}',
  "cgi-bin/component/api_authorizer_token": '{"authorizer_access_token":"stub-authorizer-token","expires_in":7200}',
  "cgi-bin/component/get_authorizer_option": '{"errcode":0,"errmsg":"ok","option_value":"0"}',
  "cgi-bin/component/set_authorizer_option": '{"errcode":0,"errmsg":"ok"}',
};
const provider = {
  ...real,
  configure: async (request) => {
    await real.configure(request);
    const client = session().client;
    // WeChatClient sends every request through its got instance, the private field \`http\`.
    if (typeof client.http !== "function") throw new Error("bench: WeChatClient no longer has an http field; update bench/project.ts");
    client.http = async (path) => ({ statusCode: 200, body: answers[path] });
  },
};
`;

export function createProject(log: (line: string) => void): BenchProject {
  // The directory's name must not contain "pulumi-wechat": Pulumi's serializer looks a module's package.json up by
  // the first occurrence of the package name in its path, so in such a directory the SDK hands over its longer
  // require-by-name stub (see sdk/handover.ts), and the benchmark would not measure the form users get.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wechat-bench-"));
  const started = Date.now();
  // `npm pack` runs the package's own build (prepack), so the tarball holds exactly what users install.
  const packed = npm(["pack", "--silent", "--pack-destination", dir], ROOT).trim().split("\n").pop()!;
  const tarball = path.join(dir, packed);
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "pulumi-wechat-bench-project", private: true }, null, 2));
  log(`installing ${packed} and @pulumi/pulumi@${PULUMI_VERSION} into ${dir} (npm install --prefer-offline)`);
  npm(["install", "--prefer-offline", "--no-audit", "--no-fund", tarball, `@pulumi/pulumi@${PULUMI_VERSION}`], dir);
  for (const file of ["Pulumi.yaml", "index.ts"]) fs.copyFileSync(path.join(EXAMPLE, file), path.join(dir, file));
  const projectName = /^name:\s*(\S+)/m.exec(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"))![1];

  // The provider text exactly as @pulumi/pulumi's dynamic.Resource makes it (`serializeFunction(() => provider)`),
  // from this project's own copies of both packages.
  const serializer = `
const sc = require("@pulumi/pulumi/runtime/closure/serializeClosure");
const sdk = require(require("path").join(process.cwd(), "node_modules/pulumi-wechat/dist/sdk/authorizerOption.js"));
function serializeProvider(provider) {
  return sc.serializeFunction(() => provider, { allowSecrets: true });
}
serializeProvider(sdk.authorizerOptionProvider).then((s) => process.stdout.write(s.text));
`;
  const providerText = execFileSync(process.execPath, ["-e", serializer], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, NODE_NO_WARNINGS: "1" },
  });
  return {
    dir,
    tarball,
    tarballBytes: fs.statSync(tarball).size,
    projectName,
    providerText,
    noopProviderText: NOOP_PROVIDER_TEXT,
    stubbedProviderText: STUBBED_HTTP_PROVIDER_TEXT,
    installMs: Date.now() - started,
  };
}

/**
 * For contrast: the `__provider` text when the package is not under node_modules (this repository, npm link,
 * workspaces), where the SDK hands over a stub that requires the provider by name at run time.
 */
export function repositoryLayoutProviderBytes(): number {
  const serializer = `
const sc = require("@pulumi/pulumi/runtime/closure/serializeClosure");
const sdk = require(${JSON.stringify(path.join(ROOT, "dist", "sdk", "authorizerOption.js"))});
function serializeProvider(provider) {
  return sc.serializeFunction(() => provider, { allowSecrets: true });
}
serializeProvider(sdk.authorizerOptionProvider).then((s) => process.stdout.write(String(Buffer.byteLength(s.text))));
`;
  return Number(
    execFileSync(process.execPath, ["-e", serializer], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NODE_NO_WARNINGS: "1" } }),
  );
}

/** Writes the accounts file the example program reads (`accountsFile`): n settings over ceil(n/3) accounts. */
export function writeAccountsFile(project: BenchProject, n: number, accounts: readonly Account[]): string {
  const list = [];
  for (let i = 0; i * 3 < n; i++) {
    const entry: Record<string, unknown> = { appId: accounts[i].appId };
    for (let j = 0; j < 3 && i * 3 + j < n; j++) entry[OPTION_KEYS[OPTION_NAMES[j]]] = 1;
    list.push(entry);
  }
  const file = path.join(project.dir, `accounts-${n}.json`);
  fs.writeFileSync(file, JSON.stringify(list));
  return file;
}

export function removeProject(project: BenchProject): void {
  fs.rmSync(project.dir, { recursive: true, force: true });
}
