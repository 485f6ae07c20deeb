/**
 * The dashboard model as Grafana 12.2 stores it, typed from Grafana's own generated types
 * (npm `@grafana/schema`, the version of the Grafana image we deploy), for checking dashboard
 * JSON with `tsc --strict`.
 *
 * tests/support/grafana_schema.py writes each dashboard as TypeScript: one constant of type
 * `DashboardPanel` per panel and one of type `DashboardModel` for the rest, then compiles them.
 *
 * Two things separate JSON from the TypeScript model:
 * - Grafana's string enums (`ThresholdsMode.Absolute`) are their string values in JSON
 *   (`"absolute"`): `Json<T>` turns every string enum, however deep, into the union of its values.
 * - A panel's `options` and `fieldConfig.defaults.custom` hold only what differs from the panel
 *   plugin's defaults (Grafana fills the rest in): `PartialJson<T>` makes every key optional,
 *   however deep. Both are homomorphic mapped types, so an object literal still gets TypeScript's
 *   excess-property check: a misspelled key is an error.
 *
 * Query targets, of panels and of annotation queries, stay open records
 * (`Record<string, unknown>`): each data source plugin has its own, and the Infinity ones are
 * checked against the app's OpenAPI document instead.
 */

import type * as schema from '@grafana/schema';
import type * as annolist from '@grafana/schema/dist/esm/raw/composable/annotationslist/panelcfg/x/AnnotationsListPanelCfg_types.gen.js';
import type * as barchart from '@grafana/schema/dist/esm/raw/composable/barchart/panelcfg/x/BarChartPanelCfg_types.gen.js';
import type * as bargauge from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen.js';
import type * as candlestick from '@grafana/schema/dist/esm/raw/composable/candlestick/panelcfg/x/CandlestickPanelCfg_types.gen.js';
import type * as canvas from '@grafana/schema/dist/esm/raw/composable/canvas/panelcfg/x/CanvasPanelCfg_types.gen.js';
import type * as dashlist from '@grafana/schema/dist/esm/raw/composable/dashboardlist/panelcfg/x/DashboardListPanelCfg_types.gen.js';
import type * as gauge from '@grafana/schema/dist/esm/raw/composable/gauge/panelcfg/x/GaugePanelCfg_types.gen.js';
import type * as geomap from '@grafana/schema/dist/esm/raw/composable/geomap/panelcfg/x/GeomapPanelCfg_types.gen.js';
import type * as heatmap from '@grafana/schema/dist/esm/raw/composable/heatmap/panelcfg/x/HeatmapPanelCfg_types.gen.js';
import type * as histogram from '@grafana/schema/dist/esm/raw/composable/histogram/panelcfg/x/HistogramPanelCfg_types.gen.js';
import type * as logs from '@grafana/schema/dist/esm/raw/composable/logs/panelcfg/x/LogsPanelCfg_types.gen.js';
import type * as news from '@grafana/schema/dist/esm/raw/composable/news/panelcfg/x/NewsPanelCfg_types.gen.js';
import type * as nodegraph from '@grafana/schema/dist/esm/raw/composable/nodegraph/panelcfg/x/NodeGraphPanelCfg_types.gen.js';
import type * as piechart from '@grafana/schema/dist/esm/raw/composable/piechart/panelcfg/x/PieChartPanelCfg_types.gen.js';
import type * as stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen.js';
import type * as statetimeline from '@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen.js';
import type * as statushistory from '@grafana/schema/dist/esm/raw/composable/statushistory/panelcfg/x/StatusHistoryPanelCfg_types.gen.js';
import type * as table from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen.js';
import type * as text from '@grafana/schema/dist/esm/raw/composable/text/panelcfg/x/TextPanelCfg_types.gen.js';
import type * as timeseries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen.js';
import type * as trend from '@grafana/schema/dist/esm/raw/composable/trend/panelcfg/x/TrendPanelCfg_types.gen.js';

/** True for `any` only (Grafana types a geomap layer's `config` as `any`: left as it is). */
type IsAny<T> = 0 extends 1 & T ? true : false;

/** `T` as JSON: each string enum becomes the union of its string values, at any depth. Numeric
 * enums stay as they are (a JSON number literal is checked against their values). */
export type Json<T> =
  IsAny<T> extends true
    ? T
    : T extends string
      ? `${T}`
      : T extends number | boolean | null | undefined
        ? T
        : T extends ReadonlyArray<infer Item>
          ? Array<Json<Item>>
          : T extends object
            ? { [K in keyof T]: Json<T[K]> }
            : T;

/** `Json<T>` with every key optional at any depth (array items keep their own required keys
 * optional too: a panel plugin fills defaults inside them as well). */
export type PartialJson<T> =
  IsAny<T> extends true
    ? T
    : T extends string
      ? `${T}`
      : T extends number | boolean | null | undefined
        ? T
        : T extends ReadonlyArray<infer Item>
          ? Array<PartialJson<Item>>
          : T extends object
            ? { [K in keyof T]?: PartialJson<T[K]> }
            : T;

/** One object type from an intersection, so error messages name its keys, not its parts. */
type Flat<T> = { [K in keyof T]: T[K] };

/** Field config of a panel whose plugin declares custom field options `Custom`. */
type FieldConfigSource<Custom> = {
  defaults: Flat<
    Omit<Json<schema.FieldConfig>, 'custom'> & { custom?: PartialJson<Custom> }
  >;
  overrides: Json<schema.FieldConfigSource['overrides']>;
};

/** A panel of plugin `Type` with options `Options` and custom field options `Custom` (for a
 * plugin without custom field options, `custom` may only be empty). */
type PanelOf<Type extends string, Options, Custom = Record<string, never>> = Flat<
  Omit<Json<schema.Panel>, 'type' | 'options' | 'fieldConfig' | 'targets'> & {
    type: Type;
    options?: PartialJson<Options>;
    fieldConfig?: FieldConfigSource<Custom>;
    targets?: Array<Record<string, unknown>>;
  }
>;

/** The panels whose plugins ship a schema in `@grafana/schema`, by plugin id. A panel of any
 * other type (a typo, or a plugin without a schema) is an error. */
export type DashboardPanel =
  | PanelOf<'annolist', annolist.Options>
  | PanelOf<'barchart', barchart.Options, barchart.FieldConfig>
  | PanelOf<'bargauge', bargauge.Options>
  | PanelOf<'candlestick', candlestick.Options, candlestick.FieldConfig>
  | PanelOf<'canvas', canvas.Options>
  | PanelOf<'dashlist', dashlist.Options>
  | PanelOf<'gauge', gauge.Options>
  | PanelOf<'geomap', geomap.Options>
  | PanelOf<'heatmap', heatmap.Options, heatmap.FieldConfig>
  | PanelOf<'histogram', histogram.Options, histogram.FieldConfig>
  | PanelOf<'logs', logs.Options>
  | PanelOf<'news', news.Options>
  | PanelOf<'nodeGraph', nodegraph.Options>
  | PanelOf<'piechart', piechart.Options, piechart.FieldConfig>
  | PanelOf<'stat', stat.Options>
  | PanelOf<'state-timeline', statetimeline.Options, statetimeline.FieldConfig>
  | PanelOf<'status-history', statushistory.Options, statushistory.FieldConfig>
  | PanelOf<'table', table.Options, table.FieldConfig>
  | PanelOf<'text', text.Options>
  | PanelOf<'timeseries', timeseries.Options, timeseries.FieldConfig>
  | PanelOf<'trend', trend.Options, trend.FieldConfig>
  | Flat<Omit<Json<schema.RowPanel>, 'panels'> & { panels: DashboardPanel[] }>;

/** An annotation query of the dashboard (`annotations.list`): Grafana's own type, with its
 * query `target` an open record, as panel targets are (each data source plugin has its own). */
export type AnnotationQueryModel = Flat<
  Omit<Json<schema.AnnotationQuery>, 'target'> & { target?: Record<string, unknown> }
>;

/** The dashboard without its panels (they are checked one by one as `DashboardPanel`). */
export type DashboardModel = Flat<
  Omit<Json<schema.Dashboard>, 'panels' | 'annotations'> & {
    panels?: DashboardPanel[];
    annotations?: Flat<
      Omit<Json<schema.AnnotationContainer>, 'list'> & { list?: AnnotationQueryModel[] }
    >;
  }
>;
