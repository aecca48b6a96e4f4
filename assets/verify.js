// In-browser verification of a decision's entry; added by the page when JavaScript runs.
