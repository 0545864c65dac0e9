/**
 * The step executor: for each resource the program registers, Check and Diff against the state (one resource at a
 * time, as the CLI's step generator runs them), then the step itself (create, update, replace or same) under
 * --parallel, checkpointed before the program gets its answer. The first failed step cancels the deployment.
 */
import { randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import * as grpc from "@grpc/grpc-js";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import { ConcurrencyLimit } from "../../provider/client";
import { Deployment, StepOp, nameOf } from "./engine";
import { RpcError } from "./monitor";
import { Answer, Registration } from "./program";
import { Change, DiffResult, ProviderError } from "./provider";
import { PROVIDER_TYPE, ResourceState } from "../pulumi/checkpoint";
import { Json, PropertyMap, annotateSecrets, clean, isObject, isSecret, stripSecrets } from "./values";

const DYNAMIC_TYPE_PREFIX = "pulumi-nodejs:dynamic";
const { DIFF_NONE, DIFF_SOME, DIFF_UNKNOWN } = provproto.DiffResponse.DiffChanges;

/** What the step generator decided for one resource. */
interface Plan {
  op: Exclude<StepOp, "delete">;
  next: ResourceState;
  old?: ResourceState;
}

/** A step failed (or was refused); the failure is already recorded. */
class StepFailed extends Error {}

/** The end of every refusal: what runs what the harness does not. */
export const CLI_FIX = "run it with the Pulumi CLI (`npm run pulumi:install`, then `--engine pulumi`)";

const cancelled = () => new RpcError(grpc.status.CANCELLED, "the deployment was cancelled after a failed step");

/** What Diff and Update are sent: the old state, and the new inputs (secrets stripped, as the host accepts none). */
export function changeOf(next: ResourceState, old: ResourceState): Change {
  const [olds, oldInputs, news] = [old.outputs, old.inputs, next.inputs].map(stripSecrets);
  return { urn: next.urn, id: old.id ?? "", olds, oldInputs, news };
}

/** The default provider's entry, created or brought up to the stack config of this run; answers its reference. */
export function providerEntry(d: Deployment): string {
  const urn = `urn:pulumi:${d.opts.stack}::${d.project.name}::${PROVIDER_TYPE}::default`;
  const old = d.state.resources.find((r) => r.urn === urn && !r.delete);
  const id = old?.id ?? randomUUID();
  const inputs = d.providerConfig;
  if (!old || !isDeepStrictEqual(old.inputs, inputs)) d.save(old, { urn, custom: true, id, type: PROVIDER_TYPE, inputs, outputs: inputs });
  return `${urn}::${id}`;
}

/** How Go prints a property value with %v: the CLI's check-failure messages show it so. */
function goValue(v: Json | undefined): string {
  if (v === null || v === undefined) return "{<nil>}";
  if (isSecret(v)) return "{[secret]}";
  if (Array.isArray(v)) return `{[${v.map(goValue).join(" ")}]}`;
  if (isObject(v))
    return `{map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goValue(v[k])}`)
      .join(" ")}]}`;
  return `{${String(v)}}`;
}

function checkFailure(r: ResourceState, f: { property: string; reason: string }): string {
  const resource = `${r.type} resource '${nameOf(r.urn)}'`;
  return f.property
    ? `${resource}: property ${f.property} value ${goValue(r.inputs[f.property])} has a problem: ${f.reason}`
    : `${resource} has a problem: ${f.reason}`;
}

export class StepExecutor {
  /** URNs the program registered, and the old URNs its aliases took over. */
  private readonly registered = new Set<string>();
  private readonly planning = new ConcurrencyLimit(1);
  private provider: string | undefined;

  constructor(private readonly d: Deployment) {}

  /** What the delete phase removes: what the program no longer has, and the old halves of replacements. */
  leftovers(): ResourceState[] {
    return this.d.state.resources.filter((r) => r.delete || !this.registered.has(r.urn));
  }

  register = async (r: Registration): Promise<Answer> => {
    if (this.d.cancelled) throw cancelled();
    const old = this.findOld(r);
    for (const urn of [r.entry.urn, old?.urn]) if (urn) this.registered.add(urn);
    if (!r.entry.custom) return this.component(r.entry, old);
    const why = !r.entry.type.startsWith(DYNAMIC_TYPE_PREFIX)
      ? `${r.entry.type} needs its provider plugin`
      : r.unsupported.length > 0 && `the harness does not implement the resource option ${r.unsupported.join(", ")}`;
    if (why) {
      this.d.fail(r.entry.urn, `the engine harness cannot run this resource: ${why}; ${CLI_FIX}`, true);
      throw new RpcError(grpc.status.UNIMPLEMENTED, why);
    }
    this.provider ??= providerEntry(this.d);
    this.registered.add(this.provider.slice(0, this.provider.lastIndexOf("::")));
    const next = { ...r.entry, provider: this.provider };
    try {
      const plan = await this.planning.run(() => this.plan(next, old));
      return await this.d.limit.run(() => this.apply(plan));
    } catch (e) {
      throw e instanceof StepFailed ? new RpcError(grpc.status.UNKNOWN, e.message) : e;
    }
  };

  private findOld(r: Registration): ResourceState | undefined {
    const live = (urn: string) => this.d.state.resources.find((e) => e.urn === urn && !e.delete);
    return (
      live(r.entry.urn) ??
      r.aliases
        .filter((a) => !this.registered.has(a))
        .map(live)
        .find((e) => e)
    );
  }

  /** The root stack and components: recorded; their outputs come from RegisterResourceOutputs. */
  private component(declared: ResourceState, old: ResourceState | undefined): Answer {
    const entry = { ...declared, outputs: old?.outputs ?? {} };
    if (!old || !isDeepStrictEqual(entry, old)) this.d.save(old, entry);
    return { id: "", outputs: declared.inputs };
  }

  /** A provider failure, recorded; it stops the deployment. */
  private async guard<T>(urn: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof ProviderError)) throw e;
      const reasons = e.initFailed?.reasons ?? [];
      const message =
        reasons.length > 0 ? `${reasons.length} error${reasons.length > 1 ? "s" : ""} occurred:\n\t* ${reasons.join("\n\t* ")}` : e.message;
      this.d.fail(urn, message, true);
      throw new StepFailed(message);
    }
  }

  private async plan(declared: ResourceState, old: ResourceState | undefined): Promise<Plan> {
    if (this.d.cancelled) throw cancelled();
    const host = await this.d.host();
    const next = { ...declared, inputs: await this.check(declared, old?.inputs ?? {}, declared.inputs) };
    if (!old) return { op: "create", next };
    const diff = await this.guard(next.urn, () => host.diff(changeOf(next, old)));
    const plan = this.decide(next, old, diff);
    // A replacement starts afresh: the engine checks the program's inputs again, without the old ones.
    return plan.op === "replace" ? { ...plan, next: { ...next, inputs: await this.check(declared, {}, declared.inputs) } } : plan;
  }

  /** The provider's Check; its failures stop the deployment, each printed as the CLI prints it. */
  private async check(declared: ResourceState, olds: PropertyMap, news: PropertyMap): Promise<PropertyMap> {
    const host = await this.d.host();
    const checked = await this.guard(declared.urn, () => host.check(declared.urn, stripSecrets(olds), stripSecrets(news)));
    if (checked.failures.length > 0) {
      for (const f of checked.failures) this.d.fail(declared.urn, checkFailure(declared, f), true);
      throw new StepFailed("check failed");
    }
    return annotateSecrets(checked.inputs, news);
  }

  /** The engine's reading of a diff; "unknown" is read from the inputs, as the engine does. */
  private decide(next: ResourceState, old: ResourceState, diff: DiffResult): Plan {
    let changes = diff.changes;
    if (changes === DIFF_UNKNOWN) {
      const keys = new Set([...Object.keys(old.inputs), ...Object.keys(next.inputs)]);
      changes = [...keys].some((k) => !isDeepStrictEqual(old.inputs[k], next.inputs[k])) ? DIFF_SOME : DIFF_NONE;
    }
    const initErrors = (old.initErrors?.length ?? 0) > 0;
    if (changes !== DIFF_SOME) return { op: initErrors ? "update" : "same", next, old };
    if (diff.replaces.length === 0) return { op: "update", next, old };
    if (diff.deleteBeforeReplace) {
      const message = `the provider replaces it delete-before-replace, which the engine harness does not implement; ${CLI_FIX}`;
      this.d.fail(next.urn, message, true);
      throw new StepFailed(message);
    }
    return { op: "replace", next, old };
  }

  private async apply(plan: Plan): Promise<Answer> {
    if (this.d.cancelled) throw cancelled();
    const { op, next, old } = plan;
    if (op === "same") {
      const same = { ...next, id: old!.id, outputs: old!.outputs };
      if (!isDeepStrictEqual(same, old)) this.d.save(old, same);
      this.d.step("same", next);
      return { id: old!.id ?? "", outputs: old!.outputs };
    }
    if (this.d.preview) {
      this.d.step(op, next);
      return { id: op === "update" ? (old!.id ?? "") : "", outputs: next.inputs };
    }
    const host = await this.d.host();
    if (op === "update")
      return this.provision(plan, async () => ({ id: old!.id ?? "", properties: await host.update(changeOf(next, old!)) }));
    return this.provision(plan, () => host.create(next.urn, stripSecrets(next.inputs)));
  }

  /** Runs the create or update and records its outcome; a partial failure is recorded as created, with init errors. */
  private async provision(plan: Plan, call: () => Promise<{ id: string; properties: Record<string, Json> }>): Promise<Answer> {
    const { next, old } = plan;
    const settle = (id: string, properties: Record<string, Json>, initErrors?: string[]) =>
      clean({ ...next, id, outputs: annotateSecrets(properties, next.inputs), initErrors });
    return this.guard(next.urn, async () => {
      try {
        const { id, properties } = await call();
        const done = settle(id, properties);
        this.record(plan, done);
        this.d.step(plan.op, next);
        return { id: done.id!, outputs: done.outputs };
      } catch (e) {
        const failed = e instanceof ProviderError ? e.initFailed : undefined;
        if (failed) this.record(plan, settle(failed.id || (old?.id ?? ""), failed.properties, failed.reasons));
        throw e;
      }
    });
  }

  /** Puts the step's outcome in the state: a create-before-delete replacement marks the old resource for deletion. */
  private record(plan: Plan, entry: ResourceState): void {
    const old = plan.old;
    if (plan.op === "create") return this.d.save(undefined, entry);
    if (plan.op === "update") return this.d.save(old, entry);
    this.d.save(old, { ...old!, delete: true });
    this.d.save(undefined, entry);
  }
}
