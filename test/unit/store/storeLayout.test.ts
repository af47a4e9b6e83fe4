import assert from 'node:assert/strict';
import path from 'node:path';
import { StoreLayout } from '../../../src/engine/store/storeLayout';

describe('StoreLayout.filePath', () => {
  const layout = new StoreLayout(path.resolve('/store'));
  const dir = path.resolve('/store/models/x/1.0.0');

  it('joins safe relative paths inside the model folder', () => {
    assert.equal(layout.filePath('x', '1.0.0', 'a/b.bin'), path.join(dir, 'a', 'b.bin'));
    assert.equal(layout.filePath('x', '1.0.0', 'model.gguf'), path.join(dir, 'model.gguf'));
  });

  it('refuses every path that would leave the folder or is unsafe on some platform', () => {
    for (const p of ['../x', '/abs', 'a/../../x', '..', '', 'C:/x', 'C:x', '\\\\srv\\x', 'a\\..\\..\\x', 'a//b', './a', 'con.txt', 'a/nul', 'x.part', 'x.part.json', 'a\u0000b']) {
      assert.throws(() => layout.filePath('x', '1.0.0', p), /refusing/, JSON.stringify(p));
    }
  });

  it('refuses a model id or version that would leave the models folder', () => {
    assert.throws(() => layout.filePath('../../etc', '1', 'a.bin'), /refusing/);
    assert.throws(() => layout.filePath('x', '../../..', 'a.bin'), /refusing/);
  });
});
