// The locker as people see it: one column per letter, rows from the top,
// built from the state snapshot's compartments ("A07" = column A, row 7).
// displayState() folds the domain's state, items, faults and the board's
// health into the one colour a person reads; an unknown state is shown grey
// with its own name.

export const KNOWN_STATES = [
  "free", "dropoff", "reserved", "occupied", "overdue", "fault", "offline", "out_of_service",
];

export function displayState(compartment, boards = {}) {
  const board = compartment.board ? boards[compartment.board] : undefined;
  const sensors = compartment.sensors ?? [];
  if (board === "offline") return "offline";
  // A board that cannot be read leaves the door "unknown", never "closed".
  if (board === undefined && sensors.includes("door_switch") && compartment.door === "unknown") {
    return "offline";
  }
  if (compartment.state === "out_of_service") return "out_of_service";
  if (compartment.state === "faulty" || (compartment.faults ?? []).length > 0) return "fault";
  const items = compartment.items ?? [];
  if (items.some((item) => item.stage === "overdue")) return "overdue";
  return compartment.state;
}

export function stateClass(state) {
  return KNOWN_STATES.includes(state) ? `state-${state}` : "state-unknown";
}

function position(id) {
  const match = /^([A-Za-z]+)(\d+)$/.exec(id);
  return match ? [match[1].toUpperCase(), Number(match[2])] : ["?", 0];
}

// label(compartment, state) -> text under the id (may be ""), or null for none.
export function renderMap(container, compartments, { boards = {}, targets = [], label, onSelect, selected } = {}) {
  const columns = new Map();
  for (const compartment of compartments) {
    const [column, row] = position(compartment.compartment);
    if (!columns.has(column)) columns.set(column, []);
    columns.get(column).push([row, compartment]);
  }
  const targetSet = new Set(targets);
  container.replaceChildren();
  container.classList.add("locker-map");
  container.classList.toggle("dim", targetSet.size > 0);
  for (const column of [...columns.keys()].sort()) {
    const columnElement = document.createElement("div");
    columnElement.className = "column";
    for (const [, compartment] of columns.get(column).sort((a, b) => a[0] - b[0])) {
      const state = displayState(compartment, boards);
      const cell = document.createElement(onSelect ? "button" : "div");
      cell.className = `cell size-${compartment.size} ${stateClass(state)}`;
      cell.dataset.compartment = compartment.compartment;
      cell.dataset.state = state;
      if (compartment.door === "open") cell.classList.add("door-open");
      if (targetSet.has(compartment.compartment)) cell.classList.add("target");
      if (selected === compartment.compartment) cell.classList.add("selected");
      const id = document.createElement("span");
      id.className = "cid";
      id.textContent = compartment.compartment;
      cell.append(id);
      const text = label ? label(compartment, state) : null;
      if (text) {
        const what = document.createElement("span");
        what.className = "what";
        what.textContent = text;
        cell.append(what);
      }
      if (onSelect) {
        cell.type = "button";
        cell.addEventListener("click", () => onSelect(compartment.compartment));
      }
      columnElement.append(cell);
    }
    container.append(columnElement);
  }
}
