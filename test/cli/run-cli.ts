// Runs the sitempi CLI from its TypeScript sources in a process of its own (under vite-node), with
// the arguments of $SITEMPI_TEST_ARGV (JSON), so that tests can look at that process from outside.
import { main } from '../../src/cli/main.js';

process.exitCode = await main(JSON.parse(process.env.SITEMPI_TEST_ARGV ?? '[]') as string[]);
