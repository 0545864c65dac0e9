import type * as pulumi from "@pulumi/pulumi";

/**
 * The argument type of a resource, derived from its provider schema's input type: every property, at every depth,
 * may be a plain value or a `pulumi.Input` (an output of another resource, a promise). The schema stays the one
 * source of truth, and the JSDoc written on it shows in editors through this mapping.
 */
export type Args<T> = T extends readonly (infer Item)[]
  ? pulumi.Input<Args<Item>[]>
  : T extends object
    ? { [K in keyof T]: pulumi.Input<Args<T[K]>> }
    : T;

/** The output properties of a resource: each a `pulumi.Output` of the provider's output type. */
export type Outputs<T> = { readonly [K in keyof T]-?: pulumi.Output<T[K]> };

/**
 * The arguments as given, refused when a plain object in them has an own `__proto__` key (JSON.parse makes one):
 * Pulumi's serializer fails on such a key at the top level and drops it when nested, so the mistake would surface
 * as an unrelated error or vanish. Values inside outputs and promises are checked by the provider's check.
 */
export function withoutPrototypeKeys<T>(resource: string, name: string, args: T): T {
  const visit = (value: unknown, path: string): void => {
    if (value === null || typeof value !== "object") return;
    const plain = Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype;
    if (!plain) return;
    if (Object.prototype.hasOwnProperty.call(value, "__proto__")) {
      throw new Error(
        `${resource} "${name}": ${path ? `${path}.` : ""}__proto__ is not a property these resources use: remove the "__proto__" key (a JSON text made it an own property).`,
      );
    }
    for (const [key, item] of Object.entries(value)) visit(item, Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key);
  };
  visit(args, "");
  return args;
}
