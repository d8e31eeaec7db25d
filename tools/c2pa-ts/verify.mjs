// Independent C2PA check with @trustnxt/c2pa-ts (pure TypeScript, not c2pa-rs).
// Usage: node verify.mjs FILE...   Prints one JSON array: [{file, format, has_manifest, valid, active_manifest,
// errors: [codes], codes: [all status codes], assertions: [labels]}]. Exit 0 when every file read (valid or not),
// 2 on usage errors. c2pa-ts does not check certificate chains, so "valid" says nothing about trust.
import * as fs from 'node:fs/promises';
import { BMFF, JPEG, PNG } from '@trustnxt/c2pa-ts/asset';
import { SuperBox } from '@trustnxt/c2pa-ts/jumbf';
import { ManifestStore, ValidationResult } from '@trustnxt/c2pa-ts/manifest';

// c2pa-ts 0.9.4 only opens BMFF files whose ftyp names a HEIF brand; its BMFF parser and bmff hash checks are
// generic ISO BMFF, so admit the MP4 brands too (FFmpeg's fragmented mp4 says iso5/iso6/mp41, plain mp4 isom).
for (const brand of ['isom', 'iso2', 'iso4', 'iso5', 'iso6', 'mp41', 'mp42', 'avc1', 'dash']) {
  BMFF.canReadBrands.add(brand);
}

async function check(file) {
  const buf = new Uint8Array(await fs.readFile(file));
  let asset;
  if (JPEG.canRead(buf)) asset = new JPEG(buf);
  else if (PNG.canRead(buf)) asset = new PNG(buf);
  else if (BMFF.canRead(buf)) asset = new BMFF(buf);
  else return { file, format: null, has_manifest: false, valid: false, errors: ['unsupported.format'], codes: [] };
  const jumbf = asset.getManifestJUMBF();
  if (!jumbf) return { file, format: asset instanceof BMFF ? 'bmff' : asset.mimeType, has_manifest: false, valid: false, errors: [], codes: [] };
  let result;
  let activeLabel = null;
  let assertions = [];
  try {
    const manifests = ManifestStore.read(SuperBox.fromBuffer(jumbf));
    const active = manifests.getActiveManifest();
    activeLabel = active?.label ?? null;
    assertions = (active?.assertions?.assertions ?? []).map((a) => a.fullLabel);
    result = await manifests.validate(asset);
  } catch (e) {
    result = ValidationResult.fromError(e);
  }
  const entries = result.toRepresentation();
  return {
    file,
    format: asset instanceof BMFF ? 'bmff' : asset.mimeType,
    has_manifest: true,
    valid: result.isValid,
    active_manifest: activeLabel,
    errors: entries.filter((e) => !e.success).map((e) => e.code),
    codes: entries.map((e) => e.code),
    assertions,
  };
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node verify.mjs FILE...');
  process.exit(2);
}
const out = [];
for (const file of files) out.push(await check(file));
console.log(JSON.stringify(out, null, 1));
