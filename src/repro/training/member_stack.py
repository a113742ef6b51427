"""The members of a :func:`~repro.training.train_many` call still training, as one stack (:class:`MemberStack`):
their weights and Adam's state stacked on a leading slot axis, and one Adam step for all of them.

Index convention: A members still training (the stack's leading axis, "slots"); a member keeps its index in the
call (0 … E-1), the slot it holds changes as members stop.
"""

from __future__ import annotations

import torch
from torch import nn

from repro.training.stacked import StackedForward

__all__ = ["ADAM_BETAS", "ADAM_EPS", "MemberStack"]

ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8  # torch.optim.Adam's defaults, which train uses


class MemberStack:
    """The weights and Adam state of the members still training, stacked on the slot axis A.

    ``params``, ``exp_avg``, ``exp_avg_sq``: one ``(A, *shape)`` tensor per parameter; ``bad``: ``(A,)`` float32,
    1.0 from a member's first non-finite loss on (its Adam updates are skipped from then on); ``applied``: ``(A,)``
    int64, the steps whose update each member applied; ``members``: the member in each slot; ``lrs``: each slot's
    learning rate; ``x_offset``, ``y_offset``: ``(A, 1)``, where each slot's rows start in the pooled training data.
    """

    def __init__(
        self,
        forward: StackedForward,
        params: list[torch.Tensor],
        members: list[int],
        lrs: list[float],
        x_starts: list[int],
        y_starts: list[int],
    ) -> None:
        """A fresh stack (Adam's state zero) of the stacked weights ``params`` (:meth:`StackedForward.stack`) of
        ``members``; ``lrs``, ``x_starts``, ``y_starts`` hold one value per member of the call (not per slot), from
        which each slot takes its member's."""
        self._take_members(forward, members, lrs, x_starts, y_starts)
        self.params = [p.detach().requires_grad_() for p in params]
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        device = self.params[0].device
        self.bad = torch.zeros(len(members), dtype=torch.float32, device=device)
        self.applied = torch.zeros(len(members), dtype=torch.long, device=device)
        self.step = torch.zeros((), dtype=torch.float32, device=device)  # Adam's step count, shared by the slots
        self._index()

    _STATE = ("members", "exp_avg", "exp_avg_sq", "bad", "applied", "step")

    def state(self) -> dict:
        """The stack's training state: weights, Adam's state, flags and which member is in which slot (the rates and
        data offsets are the call's, so :meth:`from_state` takes them from the call that takes the state up)."""
        return {name: getattr(self, name) for name in self._STATE} | {"params": [p.detach() for p in self.params]}

    @classmethod
    def from_state(
        cls, forward: StackedForward, state: dict, lrs: list[float], x_starts: list[int], y_starts: list[int]
    ) -> MemberStack:
        """The stack :meth:`state` described; ``lrs``, ``x_starts``, ``y_starts`` as for a fresh stack."""
        stack = cls.__new__(cls)
        stack._take_members(forward, state["members"], lrs, x_starts, y_starts)
        stack.params = [p.detach().requires_grad_() for p in state["params"]]
        for name in cls._STATE[1:]:  # Adam's state, flags, step
            setattr(stack, name, state[name])
        stack._index()
        return stack

    def _take_members(
        self, forward: StackedForward, members: list[int], lrs: list[float], x_starts: list[int], y_starts: list[int]
    ) -> None:
        """Slot ``a`` holds member ``members[a]``, with that member's rate and rows in the pooled data."""
        self.forward, self.members = forward, members
        self.lrs = [lrs[e] for e in members]
        self.x_starts = [x_starts[e] for e in members]
        self.y_starts = [y_starts[e] for e in members]

    def _index(self) -> None:
        """Per-slot views and constants, remade whenever the slots change."""
        device = self.params[0].device
        self.slot_params = list(zip(*(p.detach().unbind(0) for p in self.params), strict=True))
        self.slot_exp_avg = list(zip(*(m.unbind(0) for m in self.exp_avg), strict=True))
        self.slot_exp_avg_sq = list(zip(*(v.unbind(0) for v in self.exp_avg_sq), strict=True))
        self.slot_bad = self.bad.unbind(0)
        self.x_offset = torch.tensor(self.x_starts, device=device).unsqueeze(1)  # (A, 1) rows in the pooled data
        self.y_offset = torch.tensor(self.y_starts, device=device).unsqueeze(1)

    def keep(self, slots: list[int]) -> None:
        """Keep only these slots (in this order)."""
        idx = torch.tensor(slots, device=self.params[0].device)
        self.params = [p.detach()[idx].requires_grad_() for p in self.params]
        self.exp_avg = [m[idx] for m in self.exp_avg]
        self.exp_avg_sq = [v[idx] for v in self.exp_avg_sq]
        self.bad, self.applied = self.bad[idx], self.applied[idx]
        self.members = [self.members[a] for a in slots]
        self.lrs = [self.lrs[a] for a in slots]
        self.x_starts = [self.x_starts[a] for a in slots]
        self.y_starts = [self.y_starts[a] for a in slots]
        self._index()

    def load(self, slot: int, model: nn.Module) -> nn.Module:
        """Copy the slot's current weights into ``model`` (and return it)."""
        return self.forward.unstack(self.slot_params[slot], model)

    @torch.no_grad()
    def adam_step(self, grads: list[torch.Tensor]) -> None:
        """One Adam update of every slot whose losses were all finite so far (``grads`` stacked like ``params``)."""
        self.step.add_(1)
        slot_grads = list(zip(*(g.contiguous().unbind(0) for g in grads), strict=True))
        steps = [self.step] * len(self.params)
        for a, lr in enumerate(self.lrs):
            torch._fused_adam_(  # the kernel of torch.optim.Adam(fused=True); found_inf skips the update
                list(self.slot_params[a]),
                list(slot_grads[a]),
                list(self.slot_exp_avg[a]),
                list(self.slot_exp_avg_sq[a]),
                [],
                steps,
                lr=lr,
                beta1=ADAM_BETAS[0],
                beta2=ADAM_BETAS[1],
                weight_decay=0.0,
                eps=ADAM_EPS,
                amsgrad=False,
                maximize=False,
                found_inf=self.slot_bad[a],
            )
