import assert from 'node:assert/strict';
import path from 'node:path';
import { resolveModelFile } from '../../../src/engine/catalog/modelFilePath';

describe('resolveModelFile', () => {
  const root = path.resolve('/store/models/x/1.0.0');
  it('joins safe relative paths inside the model folder', () => {
    assert.equal(resolveModelFile(root, 'a/b.bin'), path.join(root, 'a', 'b.bin'));
  });
  it('throws for any path that would leave the folder', () => {
    for (const p of ['../x', '/abs', 'a/../../x', 'C:/x', '\\\\srv\\x']) {
      assert.throws(() => resolveModelFile(root, p), /File path/);
    }
  });
});
