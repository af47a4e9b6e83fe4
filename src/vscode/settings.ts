import * as vscode from 'vscode';
import type { FallbackStrategy } from '../engine';
import { contributes } from '../../package.json';
import type { NotificationLevel } from './notifier';

/** The extension's settings, read in one place so names and defaults are not scattered. */
export const SECTION = 'modelAvailability';

/** Every `modelAvailability.*` setting with its type. A key that is not here does not compile. */
export interface Settings {
  'catalogs': string[];
  'builtinCatalog': boolean;
  'storagePath': string;
  'download.concurrency': number;
  'download.connections': number;
  'download.speedLimitMBps': number;
  'download.maxRetries': number;
  'download.retryBaseDelayMs': number;
  'download.stallTimeoutSeconds': number;
  'download.pauseDuringGeneration': boolean;
  'notifications.level': NotificationLevel;
  'fallback.strategy': FallbackStrategy;
  'fallback.minCompatibility': number;
  'autoDownload': boolean;
  'analytics.enabled': boolean;
  'analytics.retentionDays': number;
  'cleanup.keepRecentDays': number;
  'cleanup.keepFrequentUses': number;
  'cleanup.maxStorageGB': number;
  'cleanup.auto': boolean;
  'pinnedModels': string[];
  'preload.auto': boolean;
  'health.checkIntervalHours': number;
  'health.autoRepair': boolean;
  'import.reuseOnDownload': boolean;
  'import.locations': string[];
  'api.enabled': boolean;
  'api.port': number;
  'api.requireToken': boolean;
  'api.allowedOrigins': string[];
  'updates.keepPreviousVersions': number;
  'updates.held': string[];
  'updates.mode': 'notify' | 'auto' | 'off';
  'updates.checkIntervalHours': number;
  'updates.autoRollback.minGenerations': number;
  'updates.autoRollback.successDropPoints': number;
  'updates.autoRollback.slowerPercent': number;
}
export type SettingKey = keyof Settings;
/** A group of settings, e.g. `download` for every `download.*`. */
export type SettingGroup = SettingKey extends infer K ? (K extends `${infer G}.${string}` ? G : never) : never;

const PROPERTIES = contributes.configuration.properties;
type Contributed = keyof typeof PROPERTIES extends `${typeof SECTION}.${infer K}` ? K : never;
// package.json and this table name the same settings: one added to either without the other does not compile.
const SAME_KEYS: [Contributed] extends [SettingKey] ? ([SettingKey] extends [Contributed] ? true : never) : never = true;
void SAME_KEYS;

/** The default package.json gives (bundled at build time), so no call writes a default of its own. */
export function settingDefault<K extends SettingKey>(key: K): Settings[K] {
  return PROPERTIES[`${SECTION}.${key}`].default as Settings[K];
}

/** The setting's value, or package.json's default. */
export function setting<K extends SettingKey>(key: K): Settings[K] {
  return vscode.workspace.getConfiguration(SECTION).get<Settings[K]>(key, settingDefault(key));
}

/** Writes a setting (e.g. the storage folder after a move). */
export function updateSetting<K extends SettingKey>(key: K, value: Settings[K], target: vscode.ConfigurationTarget): Thenable<void> {
  return vscode.workspace.getConfiguration(SECTION).update(key, value, target);
}

export function onDidChangeSetting(keys: readonly (SettingKey | SettingGroup)[], listener: () => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (keys.some((k) => e.affectsConfiguration(`${SECTION}.${k}`))) listener();
  });
}

/**
 * VS Code routes node:http through its proxy and certificate settings (`http.proxySupport`); downloads keep
 * that unless it is off, when our direct client (less CPU per byte) goes the same way VS Code would.
 */
export function downloadTransport(): 'platform' | 'direct' {
  return vscode.workspace.getConfiguration('http').get<string>('proxySupport', 'override') === 'off' ? 'direct' : 'platform';
}
