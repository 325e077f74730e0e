export { createDependencies, createNodes, createNodesV2 } from './plugins/plugin';
export type { MiragePluginOptions } from './options';
