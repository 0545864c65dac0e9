/**
 * The provider host alone: the real dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`) started in the
 * installed project, driven over gRPC by the engine harness's client (test/harness/provider.ts) the way the engine
 * drives it for a new resource: Check, then Create, at most `parallel` resources at once (the engine's
 * --parallel).
 */
import { DynamicProviderHost } from "../test/harness/provider";
import { Semaphore } from "../test/harness/engine";
import { makeSecret, PropertyMap } from "../test/harness/values";
import { Setting } from "./fleet";
import { cpuMs, findDescendants, peakRssBytes } from "./proc";

export interface HostResult {
  wallMs: number;
  /** Host CPU during the Check/Create calls (provider module loading on first use included), ms. */
  cpuMs: number;
  /** Host CPU from its start to the end of the run (start-up included), ms. */
  totalCpuMs: number;
  peakRssBytes: number;
  /** CPU of this process (the gRPC driver standing in for the engine) during the calls, ms. */
  driverCpuMs: number;
  /** The id and outputs of the first create, to show what the engine would store. */
  sample: { id: string; properties: PropertyMap };
}

export interface HostRunOptions {
  dir: string;
  projectName: string;
  providerText: string;
  settings: readonly Setting[];
  /** Resources in flight at once (the engine's --parallel). */
  parallel: number;
  config: Record<string, string>;
  secrets: Record<string, string>;
  optionValue: number;
  /** Added to the host's environment (e.g. NODE_OPTIONS for a CPU profile). */
  env?: Record<string, string>;
}

const STACK = "bench";
/** The host is given an engine address it never calls for these requests (it logs nothing). */
const UNUSED_ENGINE_ADDRESS = "127.0.0.1:1";

export async function runHost(options: HostRunOptions): Promise<HostResult> {
  const output: string[] = [];
  const host = await DynamicProviderHost.start({
    dir: options.dir,
    engineAddress: UNUSED_ENGINE_ADDRESS,
    env: {
      ...process.env,
      ...options.env,
      PULUMI_NODEJS_PROJECT: options.projectName,
      PULUMI_NODEJS_STACK: STACK,
      PULUMI_NODEJS_ORGANIZATION: "organization",
    },
    onStdout: (line) => output.push(line),
    onStderr: (line) => output.push(line),
  });
  try {
    const pid = findDescendants(process.pid, "cmd/dynamic-provider")[0];
    if (pid === undefined) throw new Error("cannot find the provider host's process");
    const args: PropertyMap = { ...options.config };
    for (const [key, value] of Object.entries(options.secrets)) args[key] = makeSecret(value);
    await host.configure(args);

    const sem = new Semaphore(options.parallel);
    let sample: HostResult["sample"] | undefined;
    const cpuBefore = cpuMs(pid)!;
    const driverBefore = process.cpuUsage();
    const started = performance.now();
    await Promise.all(
      options.settings.map(({ appId, optionName }) =>
        sem.run(async () => {
          const urn = `urn:pulumi:${STACK}::${options.projectName}::pulumi-nodejs:dynamic/wechat:AuthorizerOption::${appId}-${optionName}`;
          const news: PropertyMap = {
            authorizerAppId: appId,
            optionName,
            optionValue: options.optionValue,
            __provider: options.providerText,
          };
          const checked = await host.check(urn, {}, news);
          if (checked.failures.length > 0) throw new Error(`check failed: ${JSON.stringify(checked.failures)}`);
          const created = await host.create(urn, checked.inputs);
          sample ??= created;
        }),
      ),
    );
    const wallMs = performance.now() - started;
    const driver = process.cpuUsage(driverBefore);
    const after = cpuMs(pid)!;
    return {
      wallMs,
      cpuMs: after - cpuBefore,
      totalCpuMs: after,
      peakRssBytes: peakRssBytes(pid) ?? 0,
      driverCpuMs: (driver.user + driver.system) / 1000,
      sample: sample!,
    };
  } catch (error) {
    if (output.length > 0) (error as Error).message += `\nprovider host output:\n${output.slice(-20).join("\n")}`;
    throw error;
  } finally {
    await host.stop();
  }
}
