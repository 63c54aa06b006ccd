"""The model summary at the start of ``fit``, without Lightning's FLOPs column."""

from __future__ import annotations

from typing import Any

from pytorch_lightning.utilities.model_summary import get_formatted_model_size, get_human_readable_count
from rich import get_console
from rich.table import Table

from gan_zoo.lightning_compat import ModelSummary as _LightningModelSummary

#: Lightning's columns that say nothing about a GAN (see :class:`ModelSummary`).
DROPPED_COLUMNS = ("FLOPs",)


class ModelSummary(_LightningModelSummary):
    """Lightning's model summary (one row per network: type, parameters, train/eval mode, and the totals)
    as a table, without the FLOPs column and total.

    Lightning counts FLOPs by running ``example_input_array`` through the module; a GAN has two
    networks with different inputs and no such array, so the column and the total read 0.

    Args:
        max_depth: depth of nested modules listed (1: the networks); 0 turns the summary off.
    """

    @staticmethod
    def summarize(
        summary_data: list[tuple[str, list[str]]],
        total_parameters: int,
        trainable_parameters: int,
        model_size: float,
        total_training_modes: dict[str, int],
        total_flops: int = 0,
        **summarize_kwargs: Any,
    ) -> None:
        columns = [(name, values) for name, values in summary_data if name not in DROPPED_COLUMNS]
        table = Table(header_style="bold magenta")
        for name, _ in columns:
            numeric = name in ("Params", "Params per Device", "In sizes", "Out sizes")
            table.add_column(
                name, justify="right" if numeric else "left", style="dim" if name == " " else None
            )
        for row in zip(*(values for _, values in columns), strict=True):
            table.add_row(*row)
        totals = Table.grid()
        for label, value in (
            ("Trainable params", get_human_readable_count(trainable_parameters)),
            ("Non-trainable params", get_human_readable_count(total_parameters - trainable_parameters)),
            ("Total params", get_human_readable_count(total_parameters)),
            ("Total estimated model params size (MB)", get_formatted_model_size(model_size)),
            ("Modules in train mode", total_training_modes["train"]),
            ("Modules in eval mode", total_training_modes["eval"]),
        ):
            totals.add_row(f"[bold]{label}[/]: {value}")
        console = get_console()
        console.print(table)
        console.print(totals)
