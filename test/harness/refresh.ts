/**
 * Refresh: Read every custom resource in the state, keep what the provider answers, and show as drift ("update")
 * only what the provider's Diff calls a change between the refreshed state and the inputs the program last gave: an
 * answer that differs in form only (callbacks in another order) is stored but shown as unchanged.
 */
import { isDeepStrictEqual } from "node:util";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import { Deployment } from "./engine";
import { ProviderError, ReadResult } from "./provider";
import { changeOf } from "./steps";
import { PROVIDER_TYPE, ResourceState } from "../pulumi/checkpoint";
import { annotateSecrets, clean, stripSecrets } from "./values";

const { DIFF_SOME, DIFF_UNKNOWN } = provproto.DiffResponse.DiffChanges;

async function refreshOne(d: Deployment, r: ResourceState): Promise<void> {
  const host = await d.host();
  let read: ReadResult;
  let initErrors: string[] | undefined;
  try {
    read = await host.read(r.urn, r.id!, stripSecrets(r.outputs), stripSecrets(r.inputs));
  } catch (e) {
    if (!(e instanceof ProviderError)) throw e;
    // A partial failure does not fail a refresh: the resource is kept, unhealthy, for the next up to report.
    if (!e.initFailed) return d.fail(r.urn, e.message, true);
    [read, initErrors] = [e.initFailed, e.initFailed.reasons];
    d.out.stdout(`  warning: ${r.urn}: Refreshed resource is in an unhealthy state:\n* ${initErrors.join("\n* ")}`);
  }
  if (!read.id) {
    d.step("delete", r);
    return d.save(r, undefined);
  }
  const next = clean({
    ...r,
    id: read.id,
    outputs: annotateSecrets(read.properties, r.outputs),
    inputs: read.inputs ? annotateSecrets(read.inputs, r.inputs) : r.inputs,
    initErrors,
  });
  let changes: provproto.DiffResponse.DiffChanges;
  try {
    // The diff an up would show right after this refresh, inverted: the refreshed state stands as the old side.
    changes = (await host.diff(changeOf(r, next))).changes;
  } catch (e) {
    return d.fail(r.urn, (e as Error).message, true);
  }
  if (!isDeepStrictEqual(next, r)) d.save(r, next);
  d.step(changes === DIFF_SOME || (changes === DIFF_UNKNOWN && !isDeepStrictEqual(next.inputs, r.inputs)) ? "update" : "same", r);
}

export async function refreshAll(d: Deployment): Promise<void> {
  const entries = d.state.resources.filter((r) => r.custom && r.id && r.type !== PROVIDER_TYPE);
  await Promise.all(entries.map((r) => d.limit.run(() => (d.cancelled ? Promise.resolve() : refreshOne(d, r)))));
}
