"""One module per job: gather facts through the adapters, call the core,
return a result for the CLI to print.

    set_image   edit a working tree           status     what runs where
    bump        set the image on the remote   plan       what a hop would change
    promote     one PR per hop                rollback   a PR back to an earlier version
    history     what was deployed when        check      policies, status, sticky comment
    bot         forge events -> commands      agent      the applier's poll loop
    apply_round one reconcile round           live_diff  desired vs live

and the pieces they share: `workspace` (a clone to work in), `open_pr`
(branch, commits, push, PR upsert for one hop).
"""
