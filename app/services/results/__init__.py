"""Result pages of a scan: the page itself (``page``), the paired view, the drill-down
(``question``), downstream accuracies, comparison of scans, chart payloads and exports."""
