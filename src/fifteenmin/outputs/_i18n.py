"""Texts of the HTML report and map in English and Italian, and locale-aware number formats.

The sources' lines (``attr_*``) are defined with the computation, in
:data:`fifteenmin._credits.ATTRIBUTION_TEXTS` (``summary.json`` holds them in English), and
included here, so that :data:`MESSAGES` is every text of the report and the map.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .._credits import ATTRIBUTION_TEXTS
from .._glossary import is_one, plural_forms
from ..errors import InputError

LANGUAGES = ("en", "it")
"""Languages of the report and the map; English is the API default."""

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        **ATTRIBUTION_TEXTS["en"],  # the sources' lines: kept with the computation
        # presentation: sources, service name, the spaces' table, the walking-time map
        "sec_sources": "Sources",
        "report_title_svc": "15-minute city: {service} within walking distance",
        "map_spaces_svc": "{service} ({n})",
        "map_cov_title_svc": "{service} within a {m}-minute walk",
        "map_walk_title_svc": "{service}: walking time to the nearest",
        "map_numbered": "numbered spaces: see the table of spaces in the report",
        "map_hex_unlabelled": "hexagons unlabelled: the report lists the underserved ones",
        "sec_spaces": "The spaces",
        "spaces_intro": (
            "The {n} {n|space|spaces} of the analysis; "
            "{n|its number is that|their numbers are those} on the maps. The walk to "
            "the street is the straight walk from the space to the nearest point of the nearest "
            "walkable street, counted in every walking time."
        ),
        "spaces_more": "The first {n} of {total} spaces; all of them are in spaces.csv.",
        "col_no": "No.",
        "col_kind": "Kind",
        "col_seats": "Seats",
        "col_walk_street": "Walk to the street (m)",
        "kind_coworking": "coworking",
        "kind_internet_cafe": "internet café",
        "kind_community_space": "community space",
        "kind_other": "other",
        "sec_walk_map": "Walking time from every street",
        "walk_map_caption": (
            "Each street coloured by the walk from it to the nearest space: blues within {m} "
            "minutes, oranges to reds beyond; grey and dotted where no space can be reached."
        ),
        "walk_map_alt": "Map of the streets coloured by the walking time to the nearest space",
        "col_near_street": "Nearest street to its centre",
        "hex_names_note": (
            "Hexagons have no names: each is shown by the walkable street nearest to its "
            "centre, and its H3 cell."
        ),
        "hex_worst": "The {n} worst of {total} underserved hexagons; all are in zones.csv.",
        "method_area": (
            "Study area: {area}. The network and the spaces were read {margin} m beyond its "
            "edge, so that walks crossing it count."
        ),
        "method_area_no_margin": (
            "Study area: {area}; the network file as it is, with no margin read beyond it."
        ),
        "method_quality": (
            "Data quality: {counted} of {zones} {zones|zone|zones} counted ({left} left out: no "
            "street data or sparse streets); {fragments} street {fragments|fragment|fragments} "
            "left out; {joins} dangling street {joins|end|ends} joined; the farthest space is "
            "{snap} m from its street (the details "
            "are in Data quality)."
        ),
        "dq_margin_none": "none: the network file as it is",
        # categories (many services)
        "cat_map_title": "Daily services within a {m}-minute walk",
        "cat_map_cbar": "service categories within a {m}-min walk (of {k}, mean per resident)",
        "cat_map_all": "{share} of residents have all {k} within {m} min",
        "miss_map_title": "Where {what} is the missing piece ({m}-minute walk)",
        "miss_map_cbar": (
            "share of residents with every other category within {m} min but no {what}"
        ),
        "miss_map_total": "{n} {n|resident has|residents have} everything else but no {what}",
        "cat_sec": "Daily services: the whole 15-minute city",
        "cat_intro": (
            "Share of residents within a {m}-minute walk of each category of daily service "
            "(services read from the OSM tags of the network file: {source}), of all of them "
            "together (counted along each street, not averaged), and the residents for whom "
            "{what} is the only category out of reach."
        ),
        "cat_col_category": "Category",
        "cat_col_services": "Places",
        "cat_col_share": "Residents within {m} min",
        "cat_all": "All categories",
        "cat_none": "none in the area: nobody reaches it",
        "cat_missing_intro": (
            "{n} {n|resident has|residents have} every other category within {m} minutes but no "
            "{what}: "
            "zones where a new {what} place completes the 15-minute city, most residents first."
        ),
        "cat_col_missing": "Residents missing only {what}",
        "cat_col_count": "Categories within reach",
        "cat_col_missing_share": "Share of the zone's residents",
        "cat_by_parent": "By {parent}",
        "cat_map_cbar_found": (
            "service categories within a {m}-min walk (of {k}: those with places in the data; "
            "mean per resident)"
        ),
        "cat_map_all_na": "all {k} categories: not assessed (no place in the data for {absent})",
        "cat_not_assessed": "not assessed: no place in the data for {absent}",
        "cat_missing_na": (
            "The residents for whom {what} is the only category out of reach are not "
            "assessed: the data hold no place for {absent}, so nobody can be said to have "
            "everything else. A network file with those places (their OSM tags) or a "
            "--category file for them completes the figure."
        ),
        "not_assessed_short": "n.a.",
        # QGIS: the layers' default styles
        "qgis_zones_pop": "zones by the share of residents within a {m}-min walk",
        "qgis_zones_area": "zones by the share of their area within a {m}-min walk",
        "qgis_isochrones": "isochrones by walking time (minutes)",
        "qgis_coverage": "area within each walk (minutes)",
        "qgis_spaces": "spaces by kind",
        "qgis_walk_times": "street nodes by walking time to the nearest space (seconds)",
        # batch: the page of every area
        "batch_title": "15-minute access by area",
        "batch_generated": (
            "Areas: {n} ({status}). Generated {date} by fifteenmin {version}; {cluster}."
        ),
        "batch_status_ok": "done",
        "batch_status_no_spaces": "no space",
        "batch_status_failed": "failed",
        "batch_status_not_run": "not run",
        "batch_within": "of {what} within {m} min (all the areas analysed)",
        "batch_what_pop": "residents",
        "batch_what_area": "the area",
        "batch_sec_map": "Map",
        "batch_map_title": (
            "Share of {what} within {m} min of {service}, by area; hatched: no figures"
        ),
        "batch_map_alt": "Areas by the share of {what} within {m} minutes",
        "batch_map_caption": "Share of {what} within a {m}-minute walk of {service}, per area",
        "batch_service": "a space",
        "batch_sec_ranked": "Areas ranked",
        "batch_ranked_intro": (
            "The lowest share of {what} within {m} minutes first. Areas with no space within "
            "the walking margin (no space) have nobody within a walk."
        ),
        "batch_col_area": "Area",
        "batch_col_name": "Name",
        "batch_col_status": "Status",
        "batch_col_residents": "Residents",
        "batch_col_within": "Within {m} min",
        "batch_col_underserved": "Underserved zones",
        "batch_col_seconds": "Seconds",
        "batch_col_report": "Report",
        "batch_report_link": "report",
        "batch_sec_failed": "Failed or not run",
        "batch_col_reason": "Reason",
        "batch_sec_inputs": "Inputs",
        "batch_col_role": "Role",
        "batch_col_file": "File",
        "batch_footer": (
            "Each area is analysed as fifteenmin analyze --boundary AREA: zones clipped to "
            "it, streets and spaces within {margin} m around it counted. Per-zone figures of "
            "every area: zones/ (GeoParquet, partitioned by area_id); the task table: "
            "manifest.json."
        ),
        # sensitivity
        "sens_sec": "Sensitivity: walking speed and population groups",
        "sens_intro": (
            "The figures computed again at walking speeds of {speeds} km/h for the groups "
            "{groups} (the same walking distances; only how far a walk of the same minutes "
            "reaches changes)."
        ),
        "sens_pairs": "Groups at their own speed: {pairs}.",
        "sens_chart_title": "Share within each walk by walking speed",
        "sens_caption": (
            "Per walk and group, the range of the city-wide share within the walk across the "
            "walking speeds (a dot per speed)."
        ),
        "sens_borderline_intro": (
            "Borderline zones: underserved at some of these speeds or groups and not at others "
            "({m}-minute walk). Their status depends on an assumption, so read it with care."
        ),
        "sens_none_borderline": "No zone's underserved status changes within the band.",
        "sens_col_share": "Share (analysis speed)",
        "sens_col_band": "Share across speeds",
        # compare (scenarios)
        "cmp_title": "What changed: {label_before} → {label_after}",
        "cmp_subtitle": "Residents within a walk of a space, zone by zone, before and after",
        "cmp_map_title": "Change in residents within a {m}-min walk",
        "cmp_map_cbar": "change in the share of residents within a {m}-min walk (points)",
        "cmp_added": "space added ({n})",
        "cmp_removed": "space removed ({n})",
        "cmp_kept": "space kept ({n})",
        "cmp_newly_served": "newly served ({n})",
        "cmp_newly_underserved": "newly underserved ({n})",
        "cmp_no_data": "no street data",
        "cmp_sec_headline": "City-wide change",
        "cmp_col_minutes": "Walk",
        "cmp_col_before": "Residents within, before",
        "cmp_col_after": "Residents within, after",
        "cmp_col_change": "Change",
        "cmp_col_share_before": "Share before",
        "cmp_col_share_after": "Share after",
        "cmp_sec_zones": "Zones that changed",
        "cmp_zones_intro": (
            "Zones whose residents within a {m}-minute walk changed, largest change first "
            "(top {n}); zones newly served or newly underserved are marked."
        ),
        "cmp_no_change": "No zone's figures changed.",
        "cmp_col_zone": "Zone",
        "cmp_col_residents": "Residents",
        "cmp_col_flag": "Status",
        "cmp_flag_served": "newly served",
        "cmp_flag_underserved": "newly underserved",
        "cmp_sec_spaces": "Spaces added and removed",
        "cmp_spaces_none": "No space was added or removed.",
        "cmp_col_space": "Space",
        "cmp_col_name": "Name",
        "cmp_col_change_kind": "Change",
        "cmp_change_added": "added",
        "cmp_change_removed": "removed",
        "cmp_sec_lineage": "Inputs of each side",
        "cmp_side_before": "before",
        "cmp_side_after": "after",
        "cmp_col_side": "Side",
        "cmp_col_input": "Input",
        "cmp_col_file": "File",
        "cmp_col_sha": "SHA-256",
        "cmp_method": (
            "Both sides use one network, one zone layer and one walking speed ({speed} km/h); "
            "residents are spread evenly over the walkable streets of their zone, as in the "
            "analysis report. A zone is underserved when less than {share} of its residents "
            "live within a {m}-minute walk. Shares of area are not recomputed."
        ),
        # report: header
        "report_title": "15-minute city: walking access to spaces",
        "report_subtitle": (
            "Which zones lack a space within a {m}-minute walk, and for how many residents"
        ),
        "generated": "Generated on {date}",
        "note_label": "Note",
        # the study area's source, as the computation records it (English)
        "area_src_streets": "walkable streets of {source} buffered by {m} m",
        "area_src_file_bounds": "the file's bounds",
        "area_src_and": ", within ",
        "area_src_street_data": "the street data",
        "area_src_boundary": "boundary polygon",
        "area_src_network": "the network",
        # headline figures
        "sec_headline": "Headline figures",
        "within_residents": "Residents within {m} min",
        "within_area": "Area within {m} min",
        "share_of_residents": "{share} of residents",
        "share_of_area": "{share} of the area",
        "spaces": "Spaces",
        "spaces_detail": "taken into account",
        "underserved_zones": "Underserved zones",
        "underserved_of": "of {n} {n|zone|zones}",
        "underserved_residents": "Residents of underserved zones",
        "without_access": "{n} without a space within {m} min",
        "residents_total": "Residents in all zones",
        "area_total": "Area of all zones",
        "km2": "{value} km²",
        # maps (PNG/SVG/PDF)
        "map_cov_title": "Walking access to the nearest space within {m} minutes",
        "map_share_pop": "{share} of {total} residents live within a {m}-min walk",
        "map_share_area": "{share} of the area lies within a {m}-min walk",
        "map_speed": "walking at {speed} km/h",
        "map_underserved_count": "{n} of {total} {total|zone|zones} underserved",
        "map_cbar_pop": (
            "share of residents within a {m}-min walk\n(black line: underserved below {limit})"
        ),
        "map_cbar_area": (
            "share of area within a {m}-min walk\n(black line: underserved below {limit})"
        ),
        "map_within": "within a {m}-min walk",
        "map_underserved_zone": "underserved zone ({n} of {total})",
        "map_street": "walkable street",
        "map_no_street": "far from any street (> {d} m)",
        "map_no_data": "no residents / streets",
        "map_label_share": "{share} within {m} min",
        "map_label_without": "{n} {n|resident|residents} without",
        "map_labels_shown": (
            "labels: the {n} underserved {n|zone|zones} with most residents without"
        ),
        "map_spaces": "space ({n})",
        "map_space": "space {id}",
        "map_walk_title": "Walking time to the nearest space",
        "map_walk_cbar": "walking time to the nearest space (min)",
        "map_walk_le": "≤ {m} min walk",
        "map_walk_gt": "> {m} min walk",
        "map_unreached": "no space reachable",
        "map_zone": "zone",
        "map_half_nodes": "half of the street nodes are within {m} min",
        "map_bands_title_all": "Area within a walk of the nearest space",
        "map_bands_title_one": "Walking isochrones of space {id}",
        "map_bands": "walking-time bands; {speed}",
        "map_band": "≤ {m} min",
        # map
        "sec_map": "Coverage map",
        "map_alt": "Map of the zones coloured by the share covered within {m} minutes",
        "map_caption_pop": (
            "Zones classed by the share of their residents within a {m}-minute walk of the "
            "nearest space, with the area within that walk and the underserved zones outlined."
        ),
        "map_caption_area": (
            "Zones classed by the share of their area within a {m}-minute walk of the nearest "
            "space, with the area within that walk and the underserved zones outlined."
        ),
        "map_interactive": "An interactive version with toggleable layers is in map.html.",
        # curve
        "sec_curve": "Residents by walking time",
        "sec_curve_streets": "Streets by walking time",
        "curve_caption_pop": (
            "Cumulative share of residents who can walk to a space within the time on the "
            "horizontal axis (residents spread evenly over the walkable streets of their zone)."
        ),
        "curve_caption_streets": (
            "Cumulative share of the walkable street length within the time on the horizontal "
            "axis (no population was given)."
        ),
        "curve_x": "walking time to the nearest space (minutes)",
        "curve_y_pop": "share of residents",
        "curve_y_streets": "share of street length",
        "curve_title": "Cumulative share by walking time",
        # underserved table
        "sec_underserved": "Underserved zones",
        "underserved_intro_pop": (
            "Zones where less than {share} of the residents live within a {m}-minute walk of a "
            "space, ranked by the residents without access."
        ),
        "underserved_intro_area": (
            "Zones where less than {share} of the area lies within a {m}-minute walk of a space."
        ),
        "none_underserved": "No zone is underserved.",
        "col_rank": "#",
        "col_zone": "Zone",
        "col_name": "Name",
        "col_residents": "Residents",
        "col_share_within": "Within {m} min",
        "col_without": "Without access",
        "col_median": "Median walk (min)",
        "col_nearest": "Nearest space",
        "col_zones": "Zones",
        "col_area": "Area (km²)",
        "col_underserved": "Underserved zones",
        # per parent zone
        "sec_parent": "By {parent}",
        "parent_intro": "Figures aggregated over the zones of each {parent}.",
        "parent_municipio": "municipio",
        "parent_district": "district",
        "parent_other": "parent zone",
        "col_parent_municipio": "Municipio",
        "col_parent_district": "District",
        "col_parent_other": "Parent zone",
        "total": "Total",
        # method and lineage
        "sec_method": "Method and data",
        "method_text": (
            "Walking times follow the street network: each space joins the nearest walkable "
            "street, and the shortest walk from every point of every street to the nearest space "
            "is computed at {speed} km/h (partial street segments included). The coverage "
            "outlines are the streets within each walk, widened by {buffer} m on each side."
        ),
        "weighting_pop": (
            "Population weighting: the residents of each zone are spread evenly over the "
            "walkable street length inside it, so the share of residents within a walk is the "
            "share of the zone's street length within that walk (exact lengths, partial segments "
            "included). A zone without a walkable street inside has no figures and is not "
            "counted (see Data quality)."
        ),
        "weighting_area": (
            "No population was given: the shares are of area (headline figures and map) and of "
            "street length (curve)."
        ),
        "underserved_rule_pop": (
            "A zone is underserved when less than {share} of its residents live within a "
            "{m}-minute walk."
        ),
        "underserved_rule_area": (
            "A zone is underserved when less than {share} of its area lies within a {m}-minute "
            "walk."
        ),
        "sec_inputs": "Input data",
        "col_input": "Input",
        "col_file": "File",
        "col_size": "Size",
        "col_modified": "Modified (UTC)",
        "input_network": "Street network",
        "input_spaces": "Spaces",
        "input_zones": "Zones",
        "input_in_memory": "All inputs were given as in-memory data (no files).",
        "spaces_from_osm": "OSM tags of the network file",
        "bytes": "{value} bytes",
        "sec_parameters": "Parameters",
        "col_parameter": "Parameter",
        "col_value": "Value",
        "param_minutes": "Walking-time thresholds (min)",
        "param_speed": "Walking speed (km/h)",
        "param_buffer": "Coverage width on each side of a street (m)",
        "param_underserved_share": "Underserved below this share",
        "param_underserved_minutes": "Walk that counts for underserved (min)",
        "param_max_snap": "Farthest a space may be from a street (m)",
        "param_population_column": "Population column",
        "param_crs": "Projected coordinate system",
        "not_given": "not given",
        "sec_software": "Software",
        "col_package": "Package",
        "col_version": "Version",
        "attribution": "Map data © OpenStreetMap contributors, under the Open Database License.",
        "footer": "Made with fifteenmin {version}.",
        # interactive map
        "map_title": "15-minute city: interactive map",
        "map_hint": "Hover over a zone or a space for its figures; switch layers at the top right.",
        "layer_streets": "Walkable streets",
        "map_streets_omitted": (
            "Streets not drawn: {n} street segments are more than this page shows ({max} at "
            "most); the static maps coverage_map and walk_time_map show them."
        ),
        "map_isochrones_omitted": (
            "Isochrones per space not drawn: {n} spaces are more than this page shows ({max} "
            "at most); see isochrones.gpkg."
        ),
        "layer_zones_pop": "Zones: share of residents within {m} min",
        "layer_zones_area": "Zones: share of area within {m} min",
        "layer_coverage": "Area within a {m}-min walk",
        "layer_isochrones": "Isochrones per space, {m} min",
        "layer_spaces": "Spaces",
        "layer_places": "Place names",
        "layer_basemap": "Basemap",
        "legend_pop": "Share of residents within {m} min",
        "legend_area": "Share of area within {m} min",
        "legend_no_data": "no residents",
        "legend_underserved": "underserved zone",
        "legend_space": "space",
        "tip_population": "Residents",
        "tip_area": "Area",
        "tip_within": "Within {m} min",
        "tip_median": "Median walk",
        "tip_p90": "90% within",
        "tip_nearest": "Nearest space",
        "tip_underserved": "Underserved",
        "tip_seats": "Seats",
        "tip_address": "Address",
        "tip_kind": "Kind",
        "tip_space": "Space",
        "minutes_value": "{value} min",
        "yes": "yes",
        "no": "no",
        "unknown": "unknown",
        # data quality (report), statuses (report and maps)
        "sec_data_quality": "Data quality",
        "dq_intro": (
            "What the figures rest on: the extent of the data, the zones each figure counts, "
            "what was left out and why, and every warning of the run."
        ),
        "col_item": "Item",
        "dq_study_area": "Study area",
        "dq_study_area_none": "not given: the zones as given",
        "dq_margin": "Margin read around the study area (network and spaces)",
        "dq_data_extent": "Extent of the street data",
        "dq_osm_timestamp": "Date of the OpenStreetMap data",
        "dq_area_value": "{source} ({area} km²)",
        "dq_bounds": "bounds W, S, E, N: {bounds}",
        "dq_metres": "{value} m",
        "sec_dq_status": "Zones by status",
        "col_status": "Status",
        "col_meaning": "Meaning",
        "col_counted": "In the headline figures",
        "status_ok": "complete data",
        "status_partial_data": "partial data",
        "status_no_data": "no street data",
        "status_sparse_streets": "sparse streets",
        "status_ok_means": "The zone lies inside the study area and has walkable streets.",
        "status_partial_data_means": (
            "Part of the zone lies outside the study area or the street data: its figures "
            "are for the part inside, with its residents scaled to that part."
        ),
        "status_no_data_means": (
            "No walkable street inside the zone: no walking figures; never underserved."
        ),
        "status_sparse_streets_means": (
            "Far less street length per resident (per km² without population) than is "
            "typical in the study area: figures shown but not counted in the headline; "
            "never underserved."
        ),
        "left_out_no_data": (
            "{n} of {total} zones have no street data and are not counted ({residents} residents)."
        ),
        "left_out_no_data_area": (
            "{n} of {total} zones have no street data and are not counted ({area} km²)."
        ),
        "left_out_sparse": (
            "{n} of {total} zones have sparse streets (far less street length per resident "
            "than is typical here) and are not counted ({residents} residents)."
        ),
        "left_out_sparse_area": (
            "{n} of {total} zones have sparse streets (far less street length per km² than is "
            "typical here) and are not counted ({area} km²)."
        ),
        "partial_note": (
            "{n} zones lie partly outside the study area or the street data: their figures "
            "are for the part inside."
        ),
        "left_out_no_data_one": (
            "{n} of {total} zones has no street data and is not counted ({residents} residents)."
        ),
        "left_out_no_data_area_one": (
            "{n} of {total} zones has no street data and is not counted ({area} km²)."
        ),
        "left_out_sparse_one": (
            "{n} of {total} zones has sparse streets (far less street length per resident "
            "than is typical here) and is not counted ({residents} residents)."
        ),
        "left_out_sparse_area_one": (
            "{n} of {total} zones has sparse streets (far less street length per km² than is "
            "typical here) and is not counted ({area} km²)."
        ),
        "partial_note_one": (
            "{n} zone lies partly outside the study area or the street data: its figures are "
            "for the part inside."
        ),
        "warn_most_no_data": (
            "Warning: {n} of {total} zones ({share}) {n|has|have} no street data. The street "
            "network "
            "probably covers only part of the zones: check the extent of the network file "
            "against the zones, or give a study area (--boundary or --bbox) that the network "
            "covers."
        ),
        "sparse_rule": "Rule for sparse streets: {rule}.",
        "sparse_rule_pop": (
            "walkable street length per resident below {share} of the median of the study "
            "area's zones with streets"
        ),
        "sparse_rule_area": (
            "walkable street length per km² below {share} of the median of the study area's "
            "zones with streets"
        ),
        "sparse_off": "off",
        "underserved_of_counted": "of {n} {n|zone|zones} counted",
        "residents_counted": "Residents in the zones counted",
        "residents_left_out": "{n} more in {k} {k|zone|zones} not counted",
        "area_counted": "Area of the zones counted",
        "no_street_data": "no street data",
        "col_left_out": "Zones not counted",
        "col_left_out_residents": "Residents not counted",
        "map_caption_no_data": "Zones hatched in grey have no street data and are not counted.",
        "map_caption_sparse": (
            "Zones with a dotted hatching and a dashed outline have sparse streets and are not "
            "counted."
        ),
        "col_data": "Data",
        "dq_fragments": "Street fragments not connected to the main network",
        "dq_fragments_value": (
            "{n} {n|fragment|fragments} ({nodes} {nodes|node|nodes}, {km} km of street), {kept}; "
            "rule: {rule}"
        ),
        "dq_fragments_kept": "kept in the analysis",
        "dq_fragments_dropped": "left out of the analysis",
        "dq_fragments_none": "none",
        "dq_joins": "Joins made between street pieces",
        "dq_joins_value": "{n}, the longest across a gap of {gap} m",
        "sec_dq_snaps": "Largest distances from a space to its street",
        "col_space": "Space",
        "col_access_m": "Distance to the street (m)",
        "sec_dq_skipped": "Skipped spaces and features",
        "col_what": "What",
        "col_id": "Id",
        "col_reason": "Reason",
        "none_skipped": "Nothing was skipped.",
        "sec_dq_warnings": "Warnings of the run",
        "none_warnings": "The run gave no warnings.",
        "col_sha256": "SHA-256",
        "input_boundary": "Study area boundary",
        "input_population": "Population layer",
        "map_status_no_data": "no street data",
        "map_status_sparse": "sparse streets (not counted)",
        "map_fragments": "street fragment (not connected)",
        "map_left_out": "{n} {n|zone|zones} not counted",
        "layer_fragments": "Street fragments",
        "tip_status": "Status",
        # what each space is worth, desks per resident (capacity)
        "worth_sec": "What each space is worth",
        "worth_intro": (
            "Residents who would lose access if a space closed: those for whom it is the only "
            "space within a {m}-minute walk. Of the {covered} residents within the walk of a "
            "space, {sole} {sole|has|have} only one within reach and {two} ({share}) "
            "{two|has|have} two "
            "or more."
        ),
        "worth_top": (
            "The {n} {n|space|spaces} whose closure would leave the most residents without a space "
            "within the walk:"
        ),
        "worth_col_sole": "Would lose access",
        "worth_col_within": "Residents within {m} min",
        "worth_col_seats": "Seats",
        "worth_col_ratio": "Seats per 1,000 residents within {m} min",
        "cap_sec": "Desks per resident",
        "cap_label_2sfca": "Desks per 1,000 {who} within {m} min (2SFCA)",
        "cap_label_e2sfca": "Desks per 1,000 {who} within {m} min (E2SFCA)",
        "cap_who_residents": "residents",
        "cap_who_users": "users",
        "cap_detail_2sfca": "every desk within the walk counts in full",
        "cap_detail_e2sfca": "{kernel} decay: nearer desks count more",
        "cap_kernel_gaussian": "Gaussian",
        "cap_kernel_linear": "linear",
        "cap_detail_e2sfca_step": "no decay (step): the same as 2SFCA",
        "cap_label_2plus": "Residents with two or more spaces within {m} min",
        "cap_detail_2plus": "{n} {n|resident|residents}",
        "cap_intro": (
            "Each space's desks are shared among the residents within a {m}-minute walk of it, "
            "and each resident gets the shares of every space within that walk (two-step "
            "floating catchment, 2SFCA; E2SFCA weighs the shares by a decay with the walking "
            "time). {reached} of the {total} desks are within the walk of residents. "
            "City-wide the two agree, as every such desk is shared out; they differ in where "
            "the desks count, zone by zone (zones.csv)."
        ),
        "cap_demand_share": (
            "Demand: {share} of the residents would use a space; the figures are per 1,000 of them."
        ),
        "cap_all_seats": "Every space has a number of seats.",
        "cap_missing_seats": (
            "{n} of {total} spaces {n|has|have} no number of seats and {n|is|are} left out of "
            "these figures "
            "(neither desks nor competition for them): {ids}."
        ),
        "cap_more": "{ids} and {n} more",
        "cap_target": (
            "Target: {target} desks per 1,000 residents. {short} {short|desk is|desks are} missing "
            "within the walk, in {n} {n|zone|zones} ({short_e} by E2SFCA)."
        ),
        "cap_target_met": "Target: {target} desks per 1,000 residents, met in every zone.",
        "cap_short_intro": "The zones with the largest shortfall:",
        "cap_col_demand": "Demand",
        "cap_col_2sfca": "Desks per 1,000 (2SFCA)",
        "cap_col_short": "Desks short (2SFCA)",
    },
    "it": {
        **ATTRIBUTION_TEXTS["it"],
        # presentazione: fonti, nome del servizio, la tabella degli spazi, la mappa dei tempi
        "sec_sources": "Fonti",
        "report_title_svc": "Città dei 15 minuti: {service} raggiungibili a piedi",
        "map_spaces_svc": "{service} ({n})",
        "map_cov_title_svc": "{service} entro {m} minuti a piedi",
        "map_walk_title_svc": "{service}: tempo a piedi fino alla sede più vicina",
        "map_numbered": "spazi numerati: vedi la tabella degli spazi nel report",
        "map_hex_unlabelled": "esagoni senza etichetta: il report elenca quelli carenti",
        "sec_spaces": "Gli spazi",
        "spaces_intro": (
            "{n|L'unico spazio|I {n} spazi} dell'analisi; {n|il suo numero è quello|i numeri sono "
            "quelli} delle mappe. Il tratto a piedi fino alla strada è la linea retta dallo "
            "spazio al punto più vicino della strada percorribile a piedi più vicina, contato "
            "in ogni tempo a piedi."
        ),
        "spaces_more": "I primi {n} di {total} spazi; tutti sono in spaces.csv.",
        "col_no": "N.",
        "col_kind": "Tipo",
        "col_seats": "Postazioni",
        "col_walk_street": "Distanza a piedi dalla strada (m)",
        "kind_coworking": "coworking",
        "kind_internet_cafe": "internet point",
        "kind_community_space": "spazio comunitario",
        "kind_other": "altro",
        "sec_walk_map": "Tempo a piedi da ogni strada",
        "walk_map_caption": (
            "Ogni strada colorata secondo il tempo a piedi fino allo spazio più vicino: blu entro "
            "{m} "
            "minuti, dall'arancio al rosso oltre; grigio punteggiato dove nessuno spazio è "
            "raggiungibile."
        ),
        "walk_map_alt": (
            "Mappa delle strade colorate secondo il tempo a piedi fino allo spazio più vicino"
        ),
        "col_near_street": "Strada più vicina al centro",
        "hex_names_note": (
            "Gli esagoni non hanno nome: ciascuno è indicato dalla strada percorribile più "
            "vicina al suo centro, e dalla sua cella H3."
        ),
        "hex_worst": "I {n} esagoni carenti peggiori su {total}; tutti sono in zones.csv.",
        "method_area": (
            "Area di studio: {area}. Rete e spazi sono stati letti fino a {margin} m oltre il "
            "suo bordo, perché contino i percorsi che lo attraversano."
        ),
        "method_area_no_margin": (
            "Area di studio: {area}; il file della rete così com'è, senza margine oltre."
        ),
        "method_quality": (
            "Qualità dei dati: {counted} {counted|zona contata|zone contate} su {zones} ({left} "
            "{left|esclusa|escluse}: senza dati stradali o con rete stradale rada); {fragments} "
            "{fragments|frammento stradale escluso|frammenti stradali esclusi}; {joins} "
            "{joins|estremità di strada collegata|estremità di strade collegate}; lo spazio più "
            "lontano dista {snap} m dalla sua "
            "strada (i dettagli sono in Qualità dei dati)."
        ),
        "dq_margin_none": "nessuno: il file della rete così com'è",
        # categorie (servizi quotidiani)
        "cat_map_title": "Servizi quotidiani entro {m} minuti a piedi",
        "cat_map_cbar": "categorie di servizi entro {m} min a piedi (su {k}, media per residente)",
        "cat_map_all": "il {share} dei residenti ha tutte le {k} categorie entro {m} min",
        "miss_map_title": "Dove manca solo {what} ({m} minuti a piedi)",
        "miss_map_cbar": (
            "quota di residenti con tutte le altre categorie entro {m} min ma senza {what}"
        ),
        "miss_map_total": "{n} {n|residente ha|residenti hanno} tutto il resto ma non {what}",
        "cat_sec": "Servizi quotidiani: la città dei 15 minuti per intero",
        "cat_intro": (
            "Quota di residenti entro {m} minuti a piedi da ciascuna categoria di servizi "
            "quotidiani (servizi letti dai tag OSM del file della rete: {source}), da tutte "
            "insieme (contate lungo ogni strada, non in media) e residenti per cui {what} è "
            "l'unica categoria fuori portata."
        ),
        "cat_col_category": "Categoria",
        "cat_col_services": "Luoghi",
        "cat_col_share": "Residenti entro {m} min",
        "cat_all": "Tutte le categorie",
        "cat_none": "nessuno nell'area: nessuno la raggiunge",
        "cat_missing_intro": (
            "{n} {n|residente ha|residenti hanno} tutte le altre categorie entro {m} minuti ma non "
            "{what}: le "
            "zone in cui un nuovo luogo di {what} completa la città dei 15 minuti, dalla più "
            "popolosa."
        ),
        "cat_col_missing": "Residenti a cui manca solo {what}",
        "cat_col_count": "Categorie raggiungibili",
        "cat_col_missing_share": "Quota dei residenti della zona",
        "cat_by_parent": "Per {parent}",
        "cat_map_cbar_found": (
            "categorie di servizi entro {m} min a piedi (su {k}: quelle con luoghi nei dati; "
            "media per residente)"
        ),
        "cat_map_all_na": (
            "tutte le {k} categorie: non valutato (nessun luogo nei dati per {absent})"
        ),
        "cat_not_assessed": "non valutato: nessun luogo nei dati per {absent}",
        "cat_missing_na": (
            "I residenti per cui {what} è l'unica categoria fuori portata non sono valutati: "
            "i dati non contengono alcun luogo per {absent}, quindi di nessuno si può dire che "
            "abbia tutto il resto. Un file della rete con quei luoghi (i loro tag OSM) o un "
            "file --category per essi completa il dato."
        ),
        "not_assessed_short": "n.v.",
        # QGIS: gli stili predefiniti dei layer
        "qgis_zones_pop": "zone per quota di residenti entro {m} min a piedi",
        "qgis_zones_area": "zone per quota della superficie entro {m} min a piedi",
        "qgis_isochrones": "isocrone per tempo a piedi (minuti)",
        "qgis_coverage": "area entro ciascuna camminata (minuti)",
        "qgis_spaces": "spazi per tipo",
        "qgis_walk_times": "nodi stradali per tempo a piedi fino allo spazio più vicino (secondi)",
        # batch: la pagina di tutte le aree
        "batch_title": "Accessibilità a 15 minuti per area",
        "batch_generated": (
            "Aree: {n} ({status}). Generato il {date} da fifteenmin {version}; {cluster}."
        ),
        "batch_status_ok": "completate",
        "batch_status_no_spaces": "senza spazi",
        "batch_status_failed": "non riuscite",
        "batch_status_not_run": "non eseguite",
        "batch_within": "{what} entro {m} min (tutte le aree analizzate)",
        "batch_what_pop": "dei residenti",
        "batch_what_area": "della superficie",
        "batch_sec_map": "Mappa",
        "batch_map_title": (
            "Quota {what} entro {m} min da {service}, per area; a tratteggio: senza dati"
        ),
        "batch_map_alt": "Aree per quota {what} entro {m} minuti",
        "batch_map_caption": "Quota {what} entro {m} minuti a piedi da {service}, per area",
        "batch_service": "uno spazio",
        "batch_sec_ranked": "Aree in ordine",
        "batch_ranked_intro": (
            "Prima le aree con la quota {what} più bassa entro {m} minuti. Le aree senza "
            "alcuno spazio entro il margine a piedi (senza spazi) non hanno nessuno a "
            "distanza pedonale."
        ),
        "batch_col_area": "Area",
        "batch_col_name": "Nome",
        "batch_col_status": "Stato",
        "batch_col_residents": "Residenti",
        "batch_col_within": "Entro {m} min",
        "batch_col_underserved": "Zone carenti",
        "batch_col_seconds": "Secondi",
        "batch_col_report": "Report",
        "batch_report_link": "report",
        "batch_sec_failed": "Non riuscite o non eseguite",
        "batch_col_reason": "Motivo",
        "batch_sec_inputs": "Dati di partenza",
        "batch_col_role": "Ruolo",
        "batch_col_file": "File",
        "batch_footer": (
            "Ogni area è analizzata come da fifteenmin analyze --boundary AREA: le zone "
            "ritagliate sull'area, contando strade e spazi fino a {margin} m oltre il suo "
            "confine. I dati per zona di tutte le aree: zones/ (GeoParquet, suddiviso per "
            "area_id); la tabella delle elaborazioni: manifest.json."
        ),
        # sensibilità
        "sens_sec": "Sensibilità: velocità a piedi e gruppi di popolazione",
        "sens_intro": (
            "I dati ricalcolati alle velocità a piedi di {speeds} km/h per i gruppi {groups} "
            "(stesse distanze a piedi; cambia solo fin dove arriva una camminata degli stessi "
            "minuti)."
        ),
        "sens_pairs": "Gruppi alla propria velocità: {pairs}.",
        "sens_chart_title": "Quota entro ciascun tempo per velocità a piedi",
        "sens_caption": (
            "Per tempo e gruppo, l'intervallo della quota cittadina entro il tempo al variare "
            "della velocità a piedi (un punto per velocità)."
        ),
        "sens_borderline_intro": (
            "Zone al limite: carenti ad alcune di queste velocità o per alcuni gruppi e non per "
            "altri ({m} minuti a piedi). Il loro stato dipende da un'ipotesi: leggerlo con cautela."
        ),
        "sens_none_borderline": "Per nessuna zona lo stato di carenza cambia nell'intervallo.",
        "sens_col_share": "Quota (velocità dell'analisi)",
        "sens_col_band": "Quota al variare della velocità",
        # compare (scenari)
        "cmp_title": "Cosa è cambiato: {label_before} → {label_after}",
        "cmp_subtitle": "Residenti a piedi da uno spazio, zona per zona, prima e dopo",
        "cmp_map_title": "Variazione dei residenti entro {m} min a piedi",
        "cmp_map_cbar": "variazione della quota di residenti entro {m} min a piedi (punti)",
        "cmp_added": "spazio aggiunto ({n})",
        "cmp_removed": "spazio rimosso ({n})",
        "cmp_kept": "spazio invariato ({n})",
        "cmp_newly_served": "ora servita ({n})",
        "cmp_newly_underserved": "ora carente ({n})",
        "cmp_no_data": "nessun dato stradale",
        "cmp_sec_headline": "Variazione in tutta la città",
        "cmp_col_minutes": "Tempo a piedi",
        "cmp_col_before": "Residenti entro, prima",
        "cmp_col_after": "Residenti entro, dopo",
        "cmp_col_change": "Variazione",
        "cmp_col_share_before": "Quota prima",
        "cmp_col_share_after": "Quota dopo",
        "cmp_sec_zones": "Zone che cambiano",
        "cmp_zones_intro": (
            "Zone in cui cambiano i residenti entro {m} minuti a piedi, dalla variazione più "
            "grande (prime {n}); sono segnate le zone ora servite o ora carenti."
        ),
        "cmp_no_change": "I dati di nessuna zona sono cambiati.",
        "cmp_col_zone": "Zona",
        "cmp_col_residents": "Residenti",
        "cmp_col_flag": "Stato",
        "cmp_flag_served": "ora servita",
        "cmp_flag_underserved": "ora carente",
        "cmp_sec_spaces": "Spazi aggiunti e rimossi",
        "cmp_spaces_none": "Nessuno spazio aggiunto o rimosso.",
        "cmp_col_space": "Spazio",
        "cmp_col_name": "Nome",
        "cmp_col_change_kind": "Variazione",
        "cmp_change_added": "aggiunto",
        "cmp_change_removed": "rimosso",
        "cmp_sec_lineage": "Dati di ciascun lato",
        "cmp_side_before": "prima",
        "cmp_side_after": "dopo",
        "cmp_col_side": "Lato",
        "cmp_col_input": "Dato",
        "cmp_col_file": "File",
        "cmp_col_sha": "SHA-256",
        "cmp_method": (
            "I due lati usano la stessa rete, lo stesso strato di zone e la stessa velocità a "
            "piedi ({speed} km/h); i residenti sono distribuiti in modo uniforme sulle strade "
            "percorribili della loro zona, come nel report dell'analisi. Una zona è carente "
            "quando meno del {share} dei residenti vive entro {m} minuti a piedi. Le quote di "
            "superficie non sono ricalcolate."
        ),
        "report_title": "Città dei 15 minuti: accessibilità a piedi agli spazi",
        "report_subtitle": (
            "Quali zone non hanno uno spazio a meno di {m} minuti a piedi, e per quanti residenti"
        ),
        "generated": "Generato il {date}",
        "note_label": "Nota",
        "area_src_streets": "strade percorribili a piedi di {source} allargate di {m} m",
        "area_src_file_bounds": "i limiti del file",
        "area_src_and": ", entro ",
        "area_src_street_data": "i dati stradali",
        "area_src_boundary": "poligono di confine",
        "area_src_network": "la rete",
        "sec_headline": "Dati principali",
        "within_residents": "Residenti entro {m} min",
        "within_area": "Superficie entro {m} min",
        "share_of_residents": "{share} dei residenti",
        "share_of_area": "{share} della superficie",
        "spaces": "Spazi",
        "spaces_detail": "considerati",
        "underserved_zones": "Zone carenti",
        "underserved_of": "su {n} {n|zona|zone}",
        "underserved_residents": "Residenti delle zone carenti",
        "without_access": "{n} senza uno spazio entro {m} min",
        "residents_total": "Residenti in tutte le zone",
        "area_total": "Superficie di tutte le zone",
        "km2": "{value} km²",
        # maps (PNG/SVG/PDF)
        "map_cov_title": "Accesso a piedi allo spazio più vicino entro {m} minuti",
        "map_share_pop": "{share} di {total} residenti vive entro {m} min a piedi",
        "map_share_area": "{share} della superficie è entro {m} min a piedi",
        "map_speed": "a piedi a {speed} km/h",
        "map_underserved_count": "{n} {n|zona carente|zone carenti} su {total}",
        "map_cbar_pop": (
            "quota di residenti entro {m} min a piedi\n(linea nera: carente sotto il {limit})"
        ),
        "map_cbar_area": (
            "quota di superficie entro {m} min a piedi\n(linea nera: carente sotto il {limit})"
        ),
        "map_within": "entro {m} min a piedi",
        "map_underserved_zone": "zona carente ({n} su {total})",
        "map_street": "strada percorribile a piedi",
        "map_no_street": "lontano dalle strade (> {d} m)",
        "map_no_data": "senza residenti / strade",
        "map_label_share": "{share} entro {m} min",
        "map_label_without": "{n} {n|residente|residenti} senza",
        "map_labels_shown": (
            "etichette: {n|la zona carente|le {n} zone carenti} con più residenti senza"
        ),
        "map_spaces": "spazio ({n})",
        "map_space": "spazio {id}",
        "map_walk_title": "Tempo a piedi fino allo spazio più vicino",
        "map_walk_cbar": "tempo a piedi fino allo spazio più vicino (min)",
        "map_walk_le": "≤ {m} min a piedi",
        "map_walk_gt": "> {m} min a piedi",
        "map_unreached": "nessuno spazio raggiungibile",
        "map_zone": "zona",
        "map_half_nodes": "metà dei nodi stradali è entro {m} min",
        "map_bands_title_all": "Area raggiungibile a piedi dallo spazio più vicino",
        "map_bands_title_one": "Isocrone a piedi dello spazio {id}",
        "map_bands": "fasce di tempo a piedi; {speed}",
        "map_band": "≤ {m} min",
        "sec_map": "Mappa della copertura",
        "map_alt": "Mappa delle zone colorate secondo la quota coperta entro {m} minuti",
        "map_caption_pop": (
            "Zone classificate secondo la quota dei loro residenti entro {m} minuti a piedi "
            "dallo spazio più vicino, con l'area raggiungibile in quel tempo e le zone carenti "
            "evidenziate."
        ),
        "map_caption_area": (
            "Zone classificate secondo la quota della loro superficie entro {m} minuti a piedi "
            "dallo spazio più vicino, con l'area raggiungibile in quel tempo e le zone carenti "
            "evidenziate."
        ),
        "map_interactive": "Una versione interattiva, con livelli attivabili, è in map.html.",
        "sec_curve": "Residenti per tempo a piedi",
        "sec_curve_streets": "Strade per tempo a piedi",
        "curve_caption_pop": (
            "Quota cumulata dei residenti che raggiungono a piedi uno spazio entro il tempo "
            "sull'asse orizzontale (residenti distribuiti uniformemente sulle strade "
            "percorribili a piedi della loro zona)."
        ),
        "curve_caption_streets": (
            "Quota cumulata della lunghezza delle strade percorribili a piedi entro il tempo "
            "sull'asse orizzontale (popolazione non fornita)."
        ),
        "curve_x": "tempo a piedi fino allo spazio più vicino (minuti)",
        "curve_y_pop": "quota di residenti",
        "curve_y_streets": "quota della lunghezza stradale",
        "curve_title": "Quota cumulata per tempo a piedi",
        "sec_underserved": "Zone carenti",
        "underserved_intro_pop": (
            "Zone in cui meno del {share} dei residenti abita entro {m} minuti a piedi da uno "
            "spazio, in ordine di residenti senza accesso."
        ),
        "underserved_intro_area": (
            "Zone in cui meno del {share} della superficie è entro {m} minuti a piedi da uno "
            "spazio."
        ),
        "none_underserved": "Nessuna zona è carente.",
        "col_rank": "N.",
        "col_zone": "Zona",
        "col_name": "Nome",
        "col_residents": "Residenti",
        "col_share_within": "Entro {m} min",
        "col_without": "Senza accesso",
        "col_median": "Tempo a piedi mediano (min)",
        "col_nearest": "Spazio più vicino",
        "col_zones": "Zone",
        "col_area": "Superficie (km²)",
        "col_underserved": "Zone carenti",
        "sec_parent": "Per {parent}",
        "parent_intro": "Dati aggregati sulle zone di ciascun {parent}.",
        "parent_municipio": "municipio",
        "parent_district": "distretto",
        "parent_other": "ambito superiore",
        "col_parent_municipio": "Municipio",
        "col_parent_district": "Distretto",
        "col_parent_other": "Ambito superiore",
        "total": "Totale",
        "sec_method": "Metodo e dati",
        "method_text": (
            "I tempi a piedi seguono la rete stradale: ogni spazio si collega alla strada "
            "percorribile a piedi più vicina, e per ogni punto di ogni strada si calcola il "
            "percorso a piedi più breve fino allo spazio più vicino a {speed} km/h (tratti "
            "parziali compresi). I contorni della copertura sono le strade raggiungibili, "
            "allargate di {buffer} m per lato."
        ),
        "weighting_pop": (
            "Ponderazione per popolazione: i residenti di ogni zona sono distribuiti "
            "uniformemente sulla lunghezza delle strade percorribili a piedi al suo interno, "
            "quindi la quota di residenti entro un tempo a piedi è la quota della lunghezza "
            "stradale della zona entro quel tempo (lunghezze esatte, tratti parziali compresi). "
            "Una zona senza strade percorribili a piedi non ha valori e non è conteggiata (vedi "
            "Qualità dei dati)."
        ),
        "weighting_area": (
            "Popolazione non fornita: le quote sono di superficie (dati principali e mappa) e di "
            "lunghezza stradale (curva)."
        ),
        "underserved_rule_pop": (
            "Una zona è carente quando meno del {share} dei suoi residenti abita entro {m} "
            "minuti a piedi."
        ),
        "underserved_rule_area": (
            "Una zona è carente quando meno del {share} della sua superficie è entro {m} "
            "minuti a piedi."
        ),
        "sec_inputs": "Dati di ingresso",
        "col_input": "Dato",
        "col_file": "File",
        "col_size": "Dimensione",
        "col_modified": "Modificato (UTC)",
        "input_network": "Rete stradale",
        "input_spaces": "Spazi",
        "input_zones": "Zone",
        "input_in_memory": "Tutti i dati sono stati forniti in memoria (nessun file).",
        "spaces_from_osm": "Tag OSM del file della rete",
        "bytes": "{value} byte",
        "sec_parameters": "Parametri",
        "col_parameter": "Parametro",
        "col_value": "Valore",
        "param_minutes": "Soglie di tempo a piedi (min)",
        "param_speed": "Velocità a piedi (km/h)",
        "param_buffer": "Larghezza coperta per lato di strada (m)",
        "param_underserved_share": "Carente sotto questa quota",
        "param_underserved_minutes": "Tempo a piedi per le zone carenti (min)",
        "param_max_snap": "Distanza massima di uno spazio da una strada (m)",
        "param_population_column": "Colonna della popolazione",
        "param_crs": "Sistema di coordinate proiettato",
        "not_given": "non fornita",
        "sec_software": "Software",
        "col_package": "Pacchetto",
        "col_version": "Versione",
        "attribution": (
            "Dati cartografici © OpenStreetMap contributors, con licenza Open Database License."
        ),
        "footer": "Realizzato con fifteenmin {version}.",
        "map_title": "Città dei 15 minuti: mappa interattiva",
        "map_hint": (
            "Passa sopra una zona o uno spazio per vederne i dati; attiva i livelli in alto "
            "a destra."
        ),
        "layer_streets": "Strade percorribili a piedi",
        "map_streets_omitted": (
            "Strade non disegnate: {n} segmenti stradali sono più di quanti questa pagina ne "
            "mostri (al massimo {max}); le mappe statiche coverage_map e walk_time_map le "
            "mostrano."
        ),
        "map_isochrones_omitted": (
            "Isocrone per spazio non disegnate: {n} spazi sono più di quanti questa pagina ne "
            "mostri (al massimo {max}); vedi isochrones.gpkg."
        ),
        "layer_zones_pop": "Zone: quota di residenti entro {m} min",
        "layer_zones_area": "Zone: quota di superficie entro {m} min",
        "layer_coverage": "Area entro {m} min a piedi",
        "layer_isochrones": "Isocrone per spazio, {m} min",
        "layer_spaces": "Spazi",
        "layer_places": "Toponimi",
        "layer_basemap": "Mappa di sfondo",
        "legend_pop": "Quota di residenti entro {m} min",
        "legend_area": "Quota di superficie entro {m} min",
        "legend_no_data": "senza residenti",
        "legend_underserved": "zona carente",
        "legend_space": "spazio",
        "tip_population": "Residenti",
        "tip_area": "Superficie",
        "tip_within": "Entro {m} min",
        "tip_median": "Tempo a piedi mediano",
        "tip_p90": "90% entro",
        "tip_nearest": "Spazio più vicino",
        "tip_underserved": "Carente",
        "tip_seats": "Postazioni",
        "tip_address": "Indirizzo",
        "tip_kind": "Tipo",
        "tip_space": "Spazio",
        "minutes_value": "{value} min",
        "yes": "sì",
        "no": "no",
        "unknown": "non noto",
        "sec_data_quality": "Qualità dei dati",
        "dq_intro": (
            "Su che cosa si basano i dati: l'estensione dei dati, le zone conteggiate in ogni "
            "valore, che cosa è stato escluso e perché, e ogni avviso dell'esecuzione."
        ),
        "col_item": "Voce",
        "dq_study_area": "Area di studio",
        "dq_study_area_none": "non fornita: le zone così come date",
        "dq_margin": "Margine letto attorno all'area di studio (rete e spazi)",
        "dq_data_extent": "Estensione dei dati stradali",
        "dq_osm_timestamp": "Data dei dati OpenStreetMap",
        "dq_area_value": "{source} ({area} km²)",
        "dq_bounds": "limiti O, S, E, N: {bounds}",
        "dq_metres": "{value} m",
        "sec_dq_status": "Zone per stato",
        "col_status": "Stato",
        "col_meaning": "Significato",
        "col_counted": "Nei dati principali",
        "status_ok": "dati completi",
        "status_partial_data": "dati parziali",
        "status_no_data": "nessun dato stradale",
        "status_sparse_streets": "rete stradale rada",
        "status_ok_means": "La zona è dentro l'area di studio e ha strade percorribili a piedi.",
        "status_partial_data_means": (
            "Parte della zona è fuori dall'area di studio o dai dati stradali: i suoi valori "
            "riguardano la parte interna, con i residenti riportati a quella parte."
        ),
        "status_no_data_means": (
            "Nessuna strada percorribile a piedi nella zona: nessun valore di tempo a piedi; mai "
            "carente."
        ),
        "status_sparse_streets_means": (
            "Molta meno lunghezza stradale per residente (per km² senza popolazione) di "
            "quanto è tipico nell'area di studio: "
            "valori mostrati ma non conteggiati nei dati principali; mai carente."
        ),
        "left_out_no_data": (
            "{n} zone su {total} non hanno dati stradali e non sono conteggiate ({residents} "
            "residenti)."
        ),
        "left_out_no_data_area": (
            "{n} zone su {total} non hanno dati stradali e non sono conteggiate ({area} km²)."
        ),
        "left_out_sparse": (
            "{n} zone su {total} hanno una rete stradale rada (molta meno lunghezza stradale per "
            "residente di quanto è tipico qui) e non sono conteggiate ({residents} residenti)."
        ),
        "left_out_sparse_area": (
            "{n} zone su {total} hanno una rete stradale rada (molta meno lunghezza stradale per "
            "km² di "
            "quanto è tipico qui) e non sono conteggiate ({area} km²)."
        ),
        "partial_note": (
            "{n} zone sono in parte fuori dall'area di studio o dai dati stradali: i loro "
            "valori riguardano la parte interna."
        ),
        "left_out_no_data_one": (
            "{n} zona su {total} non ha dati stradali e non è conteggiata ({residents} residenti)."
        ),
        "left_out_no_data_area_one": (
            "{n} zona su {total} non ha dati stradali e non è conteggiata ({area} km²)."
        ),
        "left_out_sparse_one": (
            "{n} zona su {total} ha una rete stradale rada (molta meno lunghezza stradale per "
            "residente di "
            "quanto è tipico qui) e non è conteggiata ({residents} residenti)."
        ),
        "left_out_sparse_area_one": (
            "{n} zona su {total} ha una rete stradale rada (molta meno lunghezza stradale per km² "
            "di "
            "quanto è tipico qui) e non è conteggiata ({area} km²)."
        ),
        "partial_note_one": (
            "{n} zona è in parte fuori dall'area di studio o dai dati stradali: i suoi valori "
            "riguardano la parte interna."
        ),
        "warn_most_no_data": (
            "Attenzione: {n} {n|zona|zone} su {total} ({share}) {n|non ha|non hanno} dati "
            "stradali. La rete "
            "stradale copre probabilmente solo una parte delle zone: confrontare l'estensione "
            "del file della rete con le zone, o indicare un'area di studio (--boundary o "
            "--bbox) coperta dalla rete."
        ),
        "sparse_rule": "Regola per la rete stradale rada: {rule}.",
        "sparse_rule_pop": (
            "lunghezza delle strade percorribili a piedi per residente inferiore al {share} "
            "della mediana delle zone con strade dell'area di studio"
        ),
        "sparse_rule_area": (
            "lunghezza delle strade percorribili a piedi per km² inferiore al {share} della "
            "mediana delle zone con strade dell'area di studio"
        ),
        "sparse_off": "disattivata",
        "underserved_of_counted": "su {n} {n|zona conteggiata|zone conteggiate}",
        "residents_counted": "Residenti nelle zone conteggiate",
        "residents_left_out": "altri {n} in {k} {k|zona non conteggiata|zone non conteggiate}",
        "area_counted": "Superficie delle zone conteggiate",
        "no_street_data": "nessun dato stradale",
        "col_left_out": "Zone non conteggiate",
        "col_left_out_residents": "Residenti non conteggiati",
        "map_caption_no_data": (
            "Le zone tratteggiate in grigio non hanno dati stradali e non sono conteggiate."
        ),
        "map_caption_sparse": (
            "Le zone con un tratteggio a punti e il contorno tratteggiato hanno una rete stradale "
            "rada e "
            "non sono conteggiate."
        ),
        "col_data": "Dati",
        "dq_fragments": "Frammenti stradali non collegati alla rete principale",
        "dq_fragments_value": (
            "{n} {n|frammento|frammenti} ({nodes} {nodes|nodo|nodi}, {km} km di strade), {kept}; "
            "regola: {rule}"
        ),
        "dq_fragments_kept": "mantenuti nell'analisi",
        "dq_fragments_dropped": "esclusi dall'analisi",
        "dq_fragments_none": "nessuno",
        "dq_joins": "Collegamenti creati tra tratti stradali",
        "dq_joins_value": "{n}, il più lungo su una distanza di {gap} m",
        "sec_dq_snaps": "Distanze maggiori tra uno spazio e la sua strada",
        "col_space": "Spazio",
        "col_access_m": "Distanza dalla strada (m)",
        "sec_dq_skipped": "Spazi ed elementi scartati",
        "col_what": "Cosa",
        "col_id": "Id",
        "col_reason": "Motivo",
        "none_skipped": "Nessun elemento è stato scartato.",
        "sec_dq_warnings": "Avvisi dell'esecuzione",
        "none_warnings": "L'esecuzione non ha dato avvisi.",
        "col_sha256": "SHA-256",
        "input_boundary": "Confine dell'area di studio",
        "input_population": "Livello della popolazione",
        "map_status_no_data": "nessun dato stradale",
        "map_status_sparse": "rete stradale rada (non conteggiate)",
        "map_fragments": "frammento stradale (non collegato)",
        "map_left_out": "{n} {n|zona non conteggiata|zone non conteggiate}",
        "layer_fragments": "Frammenti stradali",
        "tip_status": "Stato",
        "worth_sec": "Quanto vale ogni spazio",
        "worth_intro": (
            "Residenti che perderebbero l'accesso se uno spazio chiudesse: quelli per cui è "
            "l'unico spazio a meno di {m} minuti a piedi. Dei {covered} residenti a distanza a "
            "piedi da uno spazio, {sole} ne {sole|ha|hanno} uno solo e {two} ({share}) due o più."
        ),
        "worth_top": (
            "{n|Lo spazio|I {n} spazi} la cui chiusura lascerebbe più residenti senza uno spazio "
            "a distanza a piedi:"
        ),
        "worth_col_sole": "Perderebbero l'accesso",
        "worth_col_within": "Residenti entro {m} min",
        "worth_col_seats": "Postazioni",
        "worth_col_ratio": "Postazioni ogni 1.000 residenti entro {m} min",
        "cap_sec": "Postazioni per residente",
        "cap_label_2sfca": "Postazioni ogni 1.000 {who} entro {m} min (2SFCA)",
        "cap_label_e2sfca": "Postazioni ogni 1.000 {who} entro {m} min (E2SFCA)",
        "cap_who_residents": "residenti",
        "cap_who_users": "utenti",
        "cap_detail_2sfca": "ogni postazione raggiungibile conta per intero",
        "cap_detail_e2sfca": "decadimento {kernel}: le postazioni più vicine contano di più",
        "cap_kernel_gaussian": "gaussiano",
        "cap_kernel_linear": "lineare",
        "cap_detail_e2sfca_step": "nessun decadimento (a gradino): uguale a 2SFCA",
        "cap_label_2plus": "Residenti con due o più spazi entro {m} min",
        "cap_detail_2plus": "{n} {n|residente|residenti}",
        "cap_intro": (
            "Le postazioni di ogni spazio sono ripartite tra i residenti a meno di {m} minuti "
            "a piedi, e ogni residente riceve le quote di tutti gli spazi raggiungibili (bacino "
            "d'utenza mobile a due fasi, 2SFCA; E2SFCA pesa le quote con un decadimento secondo il "
            "tempo a piedi). {reached} delle {total} postazioni sono raggiungibili a piedi dai "
            "residenti. Sull'intera città i due valori coincidono, perché ogni postazione "
            "raggiungibile viene ripartita; differiscono zona per zona (zones.csv)."
        ),
        "cap_demand_share": (
            "Domanda: il {share} dei residenti userebbe uno spazio; i valori sono ogni 1.000 "
            "di loro."
        ),
        "cap_all_seats": "Ogni spazio ha un numero di postazioni.",
        "cap_missing_seats": (
            "{n} {n|spazio|spazi} su {total} {n|non ha|non hanno} un numero di postazioni e {n|è "
            "escluso|sono esclusi} da questi "
            "valori (né offerta né concorrenza): {ids}."
        ),
        "cap_more": "{ids} e {n|un altro|altri {n}}",
        "cap_target": (
            "Obiettivo: {target} postazioni ogni 1.000 residenti. {short|Manca|Mancano} {short} "
            "{short|postazione raggiungibile|postazioni raggiungibili} a piedi, in {n} "
            "{n|zona|zone} ({short_e} con E2SFCA)."
        ),
        "cap_target_met": (
            "Obiettivo: {target} postazioni ogni 1.000 residenti, raggiunto in ogni zona."
        ),
        "cap_short_intro": "Le zone con il deficit maggiore:",
        "cap_col_demand": "Domanda",
        "cap_col_2sfca": "Postazioni ogni 1.000 (2SFCA)",
        "cap_col_short": "Postazioni mancanti (2SFCA)",
    },
}
"""Every text of the report and the map, by language then key (same keys in each language)."""

_SEPARATORS = {"en": (",", "."), "it": (".", ",")}  # thousands, decimal


def check_language(lang: str) -> str:
    """Return ``lang`` if it is supported, else raise :class:`~fifteenmin.errors.InputError`."""
    if lang not in MESSAGES:
        raise InputError(f"language {lang!r} is not available; use one of {', '.join(LANGUAGES)}")
    return lang


class Translator:
    """Texts and number formats of one language.

    Examples
    --------
    >>> t = Translator("it")
    >>> t("within_residents", m=15), t.integer(42757.1), t.pct(0.7126)
    ('Residenti entro 15 min', '42.757', '71,3%')
    """

    def __init__(self, lang: str) -> None:
        self.lang = check_language(lang)
        self._messages = MESSAGES[lang]

    def __call__(self, key: str, **values: Any) -> str:
        """The text ``key``, with ``{placeholders}`` filled from ``values``.

        Plurals: where ``n`` is one and ``key_one`` exists, that text is used; and in any
        text ``{name|singular|plural}`` is the form that agrees with the value ``name``
        (one: the number 1 or the text ``"1"``; every other value, 0 included, is plural):

        >>> t = Translator("it")
        >>> t("map_label_without", n="1"), t("map_label_without", n="2")
        ('1 residente senza', '2 residenti senza')
        >>> Translator("en")("map_label_without", n=1)
        '1 resident without'
        """
        if "n" in values and is_one(values["n"]) and f"{key}_one" in self._messages:
            key = f"{key}_one"
        return plural_forms(self._messages[key], values).format(**values)

    def num(self, value: float | None, digits: int = 0) -> str:
        """``value`` with ``digits`` decimals and the language's separators ("–" if missing)."""
        if value is None or not math.isfinite(float(value)):
            return "–"
        text = f"{float(value):,.{digits}f}"
        thousands, decimal = _SEPARATORS[self.lang]
        return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)

    def integer(self, value: float | None) -> str:
        """``value`` rounded to a whole number, with thousands separators."""
        return self.num(value, 0)

    def pct(self, share: float | None, digits: int = 1) -> str:
        """A share in [0, 1] as a percentage."""
        if share is None or not math.isfinite(float(share)):
            return "–"
        return self.num(100 * float(share), digits) + "%"

    def status(self, status: str) -> str:
        """A zone status in words: ``"no_data"`` -> ``"no street data"`` (unknown: as is)."""
        key = f"status_{status}"
        return self(key) if key in self._messages else str(status)

    def note(self, note: str) -> str:
        """A note as the outputs show it: the sample city's own note
        (:data:`fifteenmin.sample.SYNTHETIC_NOTE`) in this language (from the glossary), any
        other as written.

        >>> from fifteenmin.sample import SYNTHETIC_NOTE
        >>> Translator("it").note(SYNTHETIC_NOTE), Translator("it").note("bozza")
        ('Città campione SINTETICA generata da fifteenmin: non è un luogo reale', 'bozza')
        """
        from .._glossary import Console  # the glossary holds the note's Italian

        return Console(self.lang).note(note)

    def recorded(self, text: str) -> str:
        """A sentence the computation recorded in English (``summary.json``: a warning, a
        rule) in this language, by the glossary's catalogue (as is where none matches)."""
        from .._glossary import Console

        return Console(self.lang).translate(text)

    def area_source(self, source: str) -> str:
        """The study area's source as the computation records it (English), in this
        language: its parts (joined by `` ∩ `` there) in words, each a file name or a known
        phrase.

        >>> source = "walkable streets of a.osm buffered by 200 m ∩ the street data"
        >>> Translator("it").area_source(source)
        'strade percorribili a piedi di a.osm allargate di 200 m, entro i dati stradali'
        """
        english = MESSAGES["en"]
        parts = []
        for part in source.split(" ∩ "):
            m = re.fullmatch(r"walkable streets of (.+) buffered by ([\d.]+) m", part)
            if m:
                name = self("area_src_network") if m[1] == english["area_src_network"] else m[1]
                part = self("area_src_streets", source=name, m=self.minutes(float(m[2])))
            else:
                for key in ("area_src_file_bounds", "area_src_street_data", "area_src_boundary"):
                    if part == english[key]:
                        part = self(key)
            parts.append(part)
        return self("area_src_and").join(parts)

    def minutes(self, minutes: float) -> str:
        """A number of minutes as written in texts: ``15``, ``7,5`` (no trailing zeros)."""
        return f"{float(minutes):g}".replace(".", _SEPARATORS[self.lang][1])
