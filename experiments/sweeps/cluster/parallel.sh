#!/bin/bash
# A campaign with GNU parallel, one run per job, here or over ssh (-S host1,host2)
# with a shared campaign folder; the last run to end merges and plots.
experiment=experiments/sweeps/averaging-cache.yaml
seq 0 $(( $(pcsim plan "$experiment" --count) - 1 )) | parallel -j 4 pcsim sweep "$experiment" --jobs 1 --index {}
