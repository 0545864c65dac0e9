/**
 * How a resource hands its provider to Pulumi. Pulumi serializes the provider object into the `__provider`
 * property of every resource's state, so the form chosen here is paid once per resource, forever.
 *
 * - Installed as users install it (a real copy under `node_modules`): the provider module's own exports are handed
 *   over. Pulumi's serializer recognizes a module loaded from `node_modules` and writes just
 *   `require("pulumi-wechat/provider/<resource>")` (about 250 bytes), never the module's contents.
 * - Anywhere else (`npm link`, workspaces, this repository: a symlink whose real path is outside `node_modules`),
 *   the serializer would try to serialize the module's contents by value, which fails on zod's native code. There
 *   the provider is a small object whose methods `require()` the same module by package name when they run.
 *
 * Both forms name the module by package path, so after `npm update` existing resources run the updated provider.
 */
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";

/** The methods Pulumi's dynamic-provider host calls. */
const METHODS = ["configure", "check", "diff", "create", "read", "update", "delete"] as const;

/**
 * The provider to hand to `pulumi.dynamic.Resource`.
 * @param module the provider module's exports (`require`d by the resource's sdk file)
 * @param moduleFile where Node loaded that module from
 * @param packagePath the module's public name, e.g. `pulumi-wechat/provider/authorizer-option`
 */
export function providerFor(
  module: pulumi.dynamic.ResourceProvider,
  moduleFile: string,
  packagePath: string,
): pulumi.dynamic.ResourceProvider {
  return serializesAsRequire(moduleFile, packagePath.split("/")[0]) ? module : requireAtRunTime(packagePath);
}

/**
 * Whether Pulumi's serializer will write the module as a `require` of this package by its public name. The
 * serializer takes the module's path relative to the program directory and keeps what follows the first
 * `node_modules` segment, which must start with this package's name (it does not under pnpm, whose packages live
 * under `node_modules/.pnpm/`, nor when the package is linked). It then finds the package's `exports` by cutting the
 * absolute path at the first occurrence of the package's name, which must be the installed copy (it is not in a
 * project directory such as `~/src/pulumi-wechat-infra`). Every other layout gets the stub.
 */
function serializesAsRequire(moduleFile: string, packageName: string): boolean {
  const segments = path.relative(process.cwd(), moduleFile).split(path.sep);
  const first = segments.indexOf("node_modules");
  const nameAt = moduleFile.indexOf(packageName);
  return first >= 0 && segments[first + 1] === packageName && moduleFile.slice(0, nameAt).endsWith(`node_modules${path.sep}`);
}

/** A provider whose methods load the real one by package name inside the provider host. */
function requireAtRunTime(packagePath: string): pulumi.dynamic.ResourceProvider {
  const stub: Record<string, unknown> = {};
  for (const method of METHODS) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    stub[method] = (...args: unknown[]) => require(packagePath)[method](...args);
  }
  return stub as unknown as pulumi.dynamic.ResourceProvider;
}
