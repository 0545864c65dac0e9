/**
 * `pulumi-language-nodejs`, the Node.js language host the Pulumi CLI starts to run a program, written here because
 * the Go one cannot be built on these machines: its module has no version tags, and the Go module proxy answers 403
 * for every version of `sdk/nodejs/cmd/pulumi-language-nodejs/v3` (see the README's Development section). It does
 * what the Go host does for a Node.js program and nothing more: it starts `@pulumi/pulumi/cmd/run` from the
 * program's own `node_modules`, with the stack configuration in `PULUMI_CONFIG`, and reports the program's exit as
 * Pulumi's hosts do (exit code 32: the program already logged its error, so the engine bails quietly).
 *
 * Installed by test/pulumi/install.ts next to the `pulumi` binary it builds, as a copy of this compiled file: it
 * needs nothing but Node.js and the program's own `@pulumi/pulumi` (and the gRPC library that package depends on).
 */
import { spawn } from "node:child_process";
import * as path from "node:path";

/* eslint-disable @typescript-eslint/no-require-imports -- these are loaded from the program's SDK at run time */
const sdk = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [process.cwd()] }));
const grpc = require(require.resolve("@grpc/grpc-js", { paths: [sdk] })) as typeof import("@grpc/grpc-js");
const languageGrpc = require(path.join(sdk, "proto", "language_grpc_pb")) as typeof import("@pulumi/pulumi/proto/language_grpc_pb");
const language = require(path.join(sdk, "proto", "language_pb")) as typeof import("@pulumi/pulumi/proto/language_pb");
const plugin = require(path.join(sdk, "proto", "plugin_pb")) as typeof import("@pulumi/pulumi/proto/plugin_pb");
const { Empty } = require(
  require.resolve("google-protobuf/google/protobuf/empty_pb", { paths: [sdk] }),
) as typeof import("google-protobuf/google/protobuf/empty_pb");
const { version: SDK_VERSION } = require(path.join(sdk, "package.json")) as { version: string };
/* eslint-enable @typescript-eslint/no-require-imports */

/** The exit code of `cmd/run` after it has logged a user-actionable error (cmd/run/index.js). */
const EXIT_AFTER_LOGGED_ERROR = 32;

type Unary<Req, Res> = (call: { request: Req }, callback: (error: Error | null, response?: Res) => void) => void;

/** Serves a request with `answer`; an exception becomes the call's error. */
function unary<Req, Res>(answer: (request: Req) => Promise<Res> | Res): Unary<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => answer(call.request))
      .then(
        (response) => callback(null, response),
        (error: Error) => callback(error),
      );
  };
}

/** Runs the program once, as `pulumi preview` or `pulumi up` asks: the answer is its error, if any. */
async function run(engineAddress: string, request: import("@pulumi/pulumi/proto/language_pb").RunRequest) {
  const info = request.getInfo();
  const programDirectory = info?.getProgramDirectory() || request.getPwd();
  // The runtime options of Pulumi.yaml (`runtime.options`), e.g. `typescript: false`.
  const options = (info?.getOptions()?.toJavaScript() ?? {}) as Record<string, unknown>;
  const args = [
    require.resolve("@pulumi/pulumi/cmd/run", { paths: [programDirectory] }),
    `--monitor=${request.getMonitorAddress()}`,
    `--engine=${engineAddress}`,
    `--organization=${request.getOrganization()}`,
    `--project=${request.getProject()}`,
    `--stack=${request.getStack()}`,
    `--pwd=${request.getPwd()}`,
    `--parallel=${request.getParallel()}`,
    ...(info?.getRootDirectory() ? [`--root-directory=${info.getRootDirectory()}`] : []),
    ...(request.getDryrun() ? ["--dry-run"] : []),
    info?.getEntryPoint() || request.getProgram() || ".",
    ...request.getArgsList(),
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULUMI_CONFIG: JSON.stringify(Object.fromEntries(request.getConfigMap().entries())),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(request.getConfigsecretkeysList()),
  };
  if (options.typescript !== false) env.PULUMI_NODEJS_TYPESCRIPT = "true";
  if (typeof options.tsconfig === "string") env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;
  const nodeArgs = typeof options.nodeargs === "string" ? options.nodeargs.split(/\s+/).filter(Boolean) : [];
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: programDirectory, env, stdio: "inherit" });
    child.once("error", () => resolve(1));
    child.once("exit", (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : 1)));
  });
  const response = new language.RunResponse();
  if (code === EXIT_AFTER_LOGGED_ERROR) response.setBail(true);
  else if (code !== 0) response.setError(`Program exited with non-zero exit code: ${code}`);
  return response;
}

function main(engineAddress: string | undefined): void {
  if (!engineAddress) {
    process.stderr.write("usage: pulumi-language-nodejs ENGINE_ADDRESS\n");
    process.exit(2);
  }
  const server = new grpc.Server();
  server.addService(languageGrpc.LanguageRuntimeService, {
    handshake: unary(() => new language.LanguageHandshakeResponse()),
    getRequiredPlugins: unary(() => new language.GetRequiredPluginsResponse()),
    getRequiredPackages: unary(() => new language.GetRequiredPackagesResponse()),
    run: unary((request: import("@pulumi/pulumi/proto/language_pb").RunRequest) => run(engineAddress, request)),
    getPluginInfo: unary(() => new plugin.PluginInfo().setVersion(SDK_VERSION)),
    about: unary(() => new language.AboutResponse().setExecutable(process.execPath).setVersion(process.version)),
    getProgramDependencies: unary(() => new language.GetProgramDependenciesResponse()),
    cancel: unary(() => new Empty()),
    // grpc-js answers UNIMPLEMENTED for the methods left out (installDependencies, template, pack, ...).
  });
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) {
      process.stderr.write(`pulumi-language-nodejs: cannot listen: ${error.message}\n`);
      process.exit(1);
    }
    // The engine reads the port from the first line of stdout.
    process.stdout.write(`${port}\n`);
  });
}

main(process.argv.slice(2).find((arg) => !arg.startsWith("-")));
