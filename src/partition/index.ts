// The partitioner: the min-cut placement of a job's ranks over sites with capacities.
export { edgeCut, graphFromEdges, graphFromPairs, partLoads, totalWeight, validateGraph, type Graph } from './graph.js';
export { contiguousPlacement, partition, type Partition, type PartitionOptions } from './partition.js';
