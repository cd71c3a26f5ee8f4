// A command that preloads the shim refuses a shim that is not there, saying how to build it or
// where to point --lib, before it starts anything (src/native/paths.ts shimToPreload).
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('a missing shim', () => {
  it.each([
    ['run', ['run', '--lib', '/nonexistent/libsitempi.so', '--', 'true']],
    ['manager', ['manager', '--sites', 'A=1x1,B=1x1', '--lib', '/nonexistent/libsitempi.so']],
  ])('%s: exit 1, naming the file, the build and --lib', async (_name, argv) => {
    const { code, err } = await runCli(argv);
    expect(code).toBe(1);
    expect(err).toContain('the shim /nonexistent/libsitempi.so does not exist');
    expect(err).toContain('npm run build');
    expect(err).toContain('--lib');
  });
});
