/**
 * The provider host alone: the real dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`) started in the
 * installed project, driven over gRPC by the engine harness's client (test/harness/provider.ts) the way the engine
 * drives it for a new resource: Configure once, then Check and Create, at most `parallel` resources at once.
 */
import { ConcurrencyLimit } from "../provider/client";
import { AUTHORIZER_OPTION } from "../test/support/state";
import { DynamicProviderHost } from "../test/harness/provider";
import { makeSecret, PropertyMap } from "../test/harness/values";
import { Run } from "./analysis";
import { Setting, TARGET_VALUE } from "./fleet";
import { findDescendants, HOST_MARKER, usageOf } from "./proc";

export interface HostRunOptions {
  dir: string;
  projectName: string;
  providerText: string;
  settings: readonly Setting[];
  /** Resources in flight at once (the engine's --parallel). */
  parallel: number;
  config: Record<string, string>;
  secrets: Record<string, string>;
  /** Added to the host's environment (e.g. NODE_OPTIONS for a CPU profile). */
  env?: Record<string, string>;
}

/** Wall time; CPU during the calls of the host (first use of the provider's modules included) and of this driver, and
 * before them ("host start": its start and Configure); the host's peak RSS. */
export async function runHost(options: HostRunOptions): Promise<Pick<Run, "wallMs" | "cpuMs" | "peakRssBytes">> {
  const output: string[] = [];
  const host = await DynamicProviderHost.start({
    dir: options.dir,
    // An engine address the host never calls for these requests.
    engineAddress: "127.0.0.1:1",
    env: { ...process.env, ...options.env, PULUMI_NODEJS_PROJECT: options.projectName, PULUMI_NODEJS_STACK: "bench" },
    onStdout: (line) => output.push(line),
    onStderr: (line) => output.push(line),
  });
  try {
    const pid = findDescendants(process.pid, HOST_MARKER)[0];
    const args: PropertyMap = { ...options.config };
    for (const [key, value] of Object.entries(options.secrets)) args[key] = makeSecret(value);
    await host.configure(args);
    const limit = new ConcurrencyLimit(options.parallel);
    const before = usageOf(pid)!;
    const driverBefore = process.cpuUsage();
    const started = performance.now();
    const type = AUTHORIZER_OPTION;
    await Promise.all(
      options.settings.map(({ appId, optionName }) =>
        limit.run(async () => {
          const urn = `urn:pulumi:bench::${options.projectName}::${type}::${appId}-${optionName}`;
          const news = { authorizerAppId: appId, optionName, optionValue: TARGET_VALUE, __provider: options.providerText };
          const checked = await host.check(urn, {}, news);
          if (checked.failures.length > 0) throw new Error(`check failed: ${JSON.stringify(checked.failures)}`);
          await host.create(urn, checked.inputs);
        }),
      ),
    );
    const wallMs = performance.now() - started;
    const driver = process.cpuUsage(driverBefore);
    const after = usageOf(pid)!;
    const cpuMs = { host: after.cpuMs - before.cpuMs, driver: (driver.user + driver.system) / 1000, "host start": before.cpuMs };
    return { wallMs, cpuMs, peakRssBytes: after.peakRssBytes };
  } catch (error) {
    if (output.length > 0) (error as Error).message += `\nprovider host output:\n${output.slice(-20).join("\n")}`;
    throw error;
  } finally {
    await host.stop();
  }
}
