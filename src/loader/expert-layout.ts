import type { Checkpoint } from './checkpoint.ts';
import type { Qwen35Config } from './config.ts';
import { CheckpointError } from './errors.ts';
import { textWeightNames, type MoeMlpNames, type TextWeightNames } from './names.ts';

/**
 * MoE checkpoints hold the routed experts in one of two layouts, told apart by tensor names:
 * fused 3-D tensors (`experts.gate_up_proj` [E, 2·Im, H], `experts.down_proj` [E, H, Im]: the
 * published BF16 checkpoints) or one tensor per expert and projection
 * (`experts.{e}.{gate,up,down}_proj.weight`: derived checkpoints). Listed in the order below, both
 * stack by rows into the same matrices: gate/up [E·2Im, H] (each expert's gate rows, then its up
 * rows) and down [E·H, Im].
 */
export interface ExpertTensors {
  layout: 'fused' | 'per-expert';
  gateUp: string[];
  down: string[];
}

export interface CheckpointNames extends TextWeightNames {
  /** Per layer: its routed experts in this checkpoint's layout; null for dense layers. */
  experts: (ExpertTensors | null)[];
}

/**
 * textWeightNames with each MoE layer's expert tensors resolved against the checkpoint, and
 * expectedShapes listing the tensors of the layout found. A layer holding both layouts, or an
 * incomplete or out-of-range set of per-expert tensors, is a typed CheckpointError.
 */
export function checkpointWeightNames(c: Qwen35Config, checkpoint: Checkpoint): CheckpointNames {
  const names = textWeightNames(c);
  const shapes = new Map(names.expectedShapes);
  const perExpertByPrefix = groupPerExpertTensors(checkpoint.names());
  const experts = names.layers.map((layer, i) => {
    if (layer.mlp.kind !== 'moe' || !c.moe) return null;
    const resolved = resolveLayer(c, layer.mlp, i, checkpoint, perExpertByPrefix);
    if (resolved.layout === 'per-expert') {
      shapes.delete(layer.mlp.expertsGateUp);
      shapes.delete(layer.mlp.expertsDown);
      const { moeIntermediateSize: Im } = c.moe;
      resolved.gateUp.forEach((n) => shapes.set(n, [Im, c.hiddenSize]));
      resolved.down.forEach((n) => shapes.set(n, [c.hiddenSize, Im]));
    }
    return resolved;
  });
  return { ...names, expectedShapes: shapes, experts };
}

const PER_EXPERT = /^(.*\.experts\.)(\d+)\.(.+)$/;

/** `…mlp.experts.` → the per-expert tensor names under it. */
function groupPerExpertTensors(all: string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const name of all) {
    const m = PER_EXPERT.exec(name);
    if (!m) continue;
    const list = groups.get(m[1]) ?? [];
    list.push(name);
    groups.set(m[1], list);
  }
  return groups;
}

function resolveLayer(c: Qwen35Config, mlp: MoeMlpNames, layer: number, checkpoint: Checkpoint, perExpertByPrefix: Map<string, string[]>): ExpertTensors {
  const E = c.moe!.numExperts;
  const prefix = mlp.expertsGateUp.slice(0, -'gate_up_proj'.length);
  const fused = [mlp.expertsGateUp, mlp.expertsDown].filter((n) => checkpoint.has(n));
  const perExpert = perExpertByPrefix.get(prefix) ?? [];
  const fail = (problem: string) => new CheckpointError(checkpoint.origin, `layer ${layer}: ${problem}`);
  if (fused.length && perExpert.length) {
    throw fail(`has both fused expert tensors (${fused[0]}) and per-expert ones (${perExpert[0]}); a checkpoint holds one layout`);
  }
  if (!perExpert.length) {
    if (!fused.length) throw fail(`no expert tensors: expected ${mlp.expertsGateUp} and ${mlp.expertsDown}, or ${prefix}{0..${E - 1}}.{gate,up,down}_proj.weight`);
    return { layout: 'fused', gateUp: [mlp.expertsGateUp], down: [mlp.expertsDown] };
  }
  for (const name of perExpert) {
    const index = Number(PER_EXPERT.exec(name)![2]);
    if (index >= E) throw fail(`${name} names expert ${index}, but num_experts is ${E}`);
  }
  const tensor = (e: number, projection: string) => {
    const name = `${prefix}${e}.${projection}.weight`;
    if (!checkpoint.has(name)) throw fail(`${name} is missing; per-expert checkpoints need gate_proj, up_proj and down_proj for each of the ${E} experts`);
    return name;
  };
  const experts = Array.from({ length: E }, (_, e) => e);
  return {
    layout: 'per-expert',
    gateUp: experts.flatMap((e) => [tensor(e, 'gate_proj'), tensor(e, 'up_proj')]),
    down: experts.map((e) => tensor(e, 'down_proj')),
  };
}
