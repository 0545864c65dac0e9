/**
 * The delete scheduler: deletes in reverse dependency order (an entry goes only after every entry that depends on
 * it, through dependencies, property dependencies, parent or provider), independent ones in parallel under --parallel.
 * A failed delete keeps its resource, and the resources it depends on, in the state.
 */
import { Deployment } from "./engine";
import { PROVIDER_TYPE, ResourceState } from "../pulumi/checkpoint";
import { stripSecrets } from "./values";

function upstream(r: ResourceState): string[] {
  const provider = r.provider ? r.provider.slice(0, r.provider.lastIndexOf("::")) : undefined;
  return [r.parent, provider, ...(r.dependencies ?? []), ...Object.values(r.propertyDependencies ?? {}).flat()].filter(
    (u) => u !== undefined,
  );
}

/** Refused, as the CLI refuses it: protected resources are never deleted, in a preview either. */
function protectedMessage(d: Deployment, urn: string): string {
  const message =
    `resource "${urn}" cannot be deleted\nbecause it is protected. To unprotect the resource, either remove the \`protect\` flag ` +
    `from the resource in your Pulumi program and run \`pulumi up\`, or use the command:\n\`pulumi state unprotect '${urn}'\``;
  return d.preview ? `Preview failed: ${message}` : message;
}

/** Calls the provider's Delete where there is something to delete (not a component, provider, retained or already deleted resource). */
async function deleteOne(d: Deployment, r: ResourceState): Promise<void> {
  if (d.preview || !r.custom || !r.id || r.type === PROVIDER_TYPE || r.retainOnDelete) return;
  const host = await d.host();
  await host.delete(r.urn, r.id, stripSecrets(r.outputs), stripSecrets(r.inputs));
}

/** The old half of a replacement is deleted without a step of its own. */
export async function deleteAll(d: Deployment, entries: ResourceState[]): Promise<void> {
  const dependents = new Map<ResourceState, number>(entries.map((r) => [r, 0]));
  const dependencies = (r: ResourceState) => entries.filter((e) => e !== r && upstream(r).includes(e.urn));
  for (const r of entries) for (const e of dependencies(r)) dependents.set(e, dependents.get(e)! + 1);
  const started = new Set<ResourceState>();
  const one = async (r: ResourceState): Promise<void> => {
    // Protected deletes are refused one by one, and do not cancel the others.
    if (r.protect && !r.delete) return d.fail(r.urn, protectedMessage(d, r.urn), false);
    try {
      await d.limit.run(() => deleteOne(d, r));
    } catch (e) {
      return d.fail(r.urn, (e as Error).message, true);
    }
    if (r.custom && r.type !== PROVIDER_TYPE && !r.delete) d.step("delete", r);
    d.save(r, undefined);
    for (const e of dependencies(r)) dependents.set(e, dependents.get(e)! - 1);
    await launch();
  };
  const launch = async (): Promise<void> => {
    const ready = entries.filter((r) => !started.has(r) && dependents.get(r) === 0 && !d.cancelled);
    for (const r of ready) started.add(r);
    await Promise.all(ready.map(one));
  };
  await launch();
}
