"""Adaptation jobs and site models: fine-tune the model in force on a site's hand labels
(``runner``), keep every model content-addressed with its card, and record which model runs
where, with its history for rollback (``registry``)."""
