/**
 * How a resource hands its provider to Pulumi. Pulumi serializes the provider object into the `__provider`
 * property of every resource's state, so the form chosen here is paid once per resource, forever.
 *
 * - When Pulumi's serializer will write the provider module as `require("pulumi-wechat/provider/<resource>")`
 *   (about 250 bytes), the module's own exports are handed over. That is decided by the serializer's own code
 *   (`@pulumi/pulumi/runtime/closure/package`), asked here about the path it will see, so the decision cannot differ
 *   from what it writes: it resolves the package from `@pulumi/pulumi`'s location, which in a monorepo with one
 *   shared SDK is not the program's.
 * - Anywhere else (`npm link`, workspaces, pnpm, a shared SDK in a parent directory, this repository), the
 *   serializer would write a path the provider host cannot load, or try to serialize the module's contents (which
 *   fails on zod's native code). There the provider is a small object whose methods `require()` the same module by
 *   package name when they run.
 *
 * Both forms name the module by package path, so after `npm update` existing resources run the updated provider.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

/** The methods Pulumi's dynamic-provider host calls. */
export const METHODS = ["configure", "check", "diff", "create", "read", "update", "delete"] as const;

/**
 * The serializer's own mapping from a path under node_modules to the name it writes in `require(...)`: an internal
 * module of @pulumi/pulumi, so a release that moves it leaves every resource with the stub, which works anywhere.
 */
const closurePackage = ((): { getModuleFromPath(path: string): string } | undefined => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- internal and untyped
    return require("@pulumi/pulumi/runtime/closure/package");
  } catch {
    return undefined;
  }
})();

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
  return serializedName(moduleFile) === packagePath ? module : requireAtRunTime(packagePath);
}

/**
 * The name Pulumi's serializer will `require` the module by, or undefined when it would serialize the module by
 * value. As the serializer does it: the module's path relative to the working directory; below its first
 * `node_modules` segment, mapped through the package's `exports` by `getModuleFromPath`.
 */
function serializedName(moduleFile: string): string | undefined {
  const parts = path.relative(process.cwd(), moduleFile).split(path.sep);
  const nodeModules = parts.indexOf("node_modules");
  if (nodeModules < 0 || !closurePackage) return undefined;
  try {
    return closurePackage.getModuleFromPath(parts.slice(nodeModules + 1).join("/"));
  } catch {
    // pnpm's `node_modules/.pnpm/<name>@<version>/node_modules/<name>/...`: the serializer reads `.pnpm` as the
    // package and throws on the export path, so it could not write the module by name either.
    return undefined;
  }
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

/**
 * The empty string, secret exactly when one of `inputs` holds a secret. Passed as the input of the same name as an
 * output the provider computes from the account (`previousValue`, `previousConfig`): Pulumi marks a dynamic
 * resource's output secret when its input of the same name is, so a value read in place of a secret stays secret.
 */
export function secretWith(...inputs: unknown[]): pulumi.Output<""> {
  return pulumi.all(inputs.map((input) => pulumi.output(input))).apply((): "" => "");
}
