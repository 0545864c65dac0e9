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
