/**
 * Part 2, the real dynamic-provider host alone, started in the installed project and driven over gRPC by the engine
 * harness's client the way the engine drives it for a new resource: Configure, then Check and Create for each.
 */
import { ConcurrencyLimit } from "../provider/client";
import { DynamicProviderHost } from "../test/harness/provider";
import { makeSecret } from "../test/harness/values";
import { StackSettings } from "../test/support/emulator";
import { FLEET_PROJECT } from "../test/support/fleet";
import { AUTHORIZER_OPTION } from "../test/support/state";
import { Measured, Planned } from "./analysis";
import { TARGET_VALUE, settingsFor } from "./emulator";
import { findProcess, HOST_MARKER, usageOf } from "./proc";
import { BenchProject } from "./project";

/**
 * Wall time; CPU during the calls of the host (first use of the provider's modules included) and of this driver, and
 * before them ("host start": its start and Configure); the host's peak RSS. The scenario names the provider the host
 * runs: every resource's `__provider` is its text.
 */
export async function runHost({ scenario, n, parallel }: Planned, project: BenchProject, stack: StackSettings): Promise<Measured> {
  const settings = settingsFor(n);
  const text = project.hostTexts[scenario as keyof BenchProject["hostTexts"]];
  const host = await DynamicProviderHost.start({
    dir: project.dir,
    engineAddress: "127.0.0.1:1", // never called for these requests
    env: { ...process.env, PULUMI_NODEJS_PROJECT: FLEET_PROJECT, PULUMI_NODEJS_STACK: "bench" },
    // The provider prints nothing.
    out: { stdout: () => undefined, stderr: (line) => process.stderr.write(`provider host: ${line}\n`) },
  });
  try {
    const pid = findProcess(process.pid, HOST_MARKER)!;
    await host.configure({ ...stack.config, ...Object.fromEntries(Object.entries(stack.secrets).map(([k, v]) => [k, makeSecret(v)])) });
    const limit = new ConcurrencyLimit(parallel);
    const [before, driverBefore, started] = [usageOf(pid)!, process.cpuUsage(), performance.now()];
    await Promise.all(
      settings.map(({ appId, optionName }) =>
        limit.run(async () => {
          const urn = `urn:pulumi:bench::${FLEET_PROJECT}::${AUTHORIZER_OPTION}::${appId}-${optionName}`;
          const news = { authorizerAppId: appId, optionName, optionValue: TARGET_VALUE, __provider: text };
          const checked = await host.check(urn, {}, news);
          if (checked.failures.length > 0) throw new Error(`check failed: ${JSON.stringify(checked.failures)}`);
          await host.create(urn, checked.inputs);
        }),
      ),
    );
    const [wallMs, driver, after] = [performance.now() - started, process.cpuUsage(driverBefore), usageOf(pid)!];
    const cpuMs = { host: after.cpuMs - before.cpuMs, driver: (driver.user + driver.system) / 1000, "host start": before.cpuMs };
    return { wallMs, cpuMs, peakRssBytes: after.peakRssBytes };
  } finally {
    await host.stop();
  }
}
