// Tests use the project's MPI toolchain helpers.
export * from '../../src/mpi/toolchain.js';
