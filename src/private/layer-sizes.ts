import { IConstruct } from 'constructs';

/**
 * Unzipped sizes of the layers possum-cdk builds, for the functions that use them: a
 * function's bundle may use Lambda's limit less its layers. A layer in a stack CDK does
 * not bundle in this synth (say, `cdk synth --exclusively` of the function's stack) is
 * sized on demand, so a function's bundle does not depend on which stacks were selected.
 */
const SIZES = new WeakMap<IConstruct, () => number>();

/** Records how to learn a layer's unzipped size (called once, when it is first needed). */
export function registerLayerSize(layer: IConstruct, size: () => number) {
  let known: number | undefined;
  SIZES.set(layer, () => known ??= size());
}

/** Unzipped bytes of a layer possum-cdk builds; 0 for any other layer. */
export function layerUnzippedBytes(layer: IConstruct): number {
  return SIZES.get(layer)?.() ?? 0;
}
