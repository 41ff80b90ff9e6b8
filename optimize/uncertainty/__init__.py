"""Deciding under uncertainty: plans that hold across futures (issue 14).

- ``stress``: a solved run's FIDs held in other futures; shortfall, subsidy, first fully
  covered year and regret against each future's own optimum.
- ``value``: what each funded project is worth (the cost of doing without it) and what
  funding a deposit the plan leaves out would cost.
- ``stochastic``: the extensive form of the two-stage stochastic program (FIDs up to a year
  shared by every future), its value of the stochastic solution and of perfect information.
- ``sensitivity``: one input group at a time at its low and high value; tornado charts.
- ``futures``: scenario sets drawn from distributions, reproducible from a seed.
- ``ph``: progressive hedging with mpi-sppy over MPI ranks.

Each writes one analysis folder (``output.write_analysis``): tidy tables, summary.json and
report.html, replaced whole and atomically, and only if ree-plan wrote it.
"""

#: A deposit funded "anyway" (``value``) must take its FID within this many years of its
#: first possible one (Strange Lake: earliest FID 2027, funded by 2030, as the scenario
#: strange-lake-anyway does).
FUND_BY_DELAY = 3
