//! `dashboard loadtest` with no flags in a terminal: the old client's `test.sh` menu.

use std::io::IsTerminal;
use std::time::Duration;

use dialoguer::{Confirm, Input, Select};

use super::args::LoadtestArgs;

const SCENARIOS: [&str; 4] =
    ["Single client (every event and heartbeat shown)", "N clients", "Load test with statistics", "Custom URL"];

/// Whether to ask: no flags were given and someone is at the terminal.
pub fn wanted() -> bool {
    std::env::args_os().nth(2).is_none() && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// Asks for a scenario and its few settings; `args` holds the defaults (from the environment).
pub fn ask(mut args: LoadtestArgs) -> anyhow::Result<LoadtestArgs> {
    let scenario = Select::new().with_prompt("Scenario").items(SCENARIOS).default(0).interact()?;
    if scenario == 3 {
        let url: String = Input::new().with_prompt("Stream URL").default(args.url.to_string()).interact_text()?;
        args.url = super::args::parse_http_url(&url).map_err(anyhow::Error::msg)?;
    } else {
        let port: u16 = Input::new()
            .with_prompt("Port")
            .default(args.url.port_or_known_default().unwrap_or(3000))
            .interact_text()?;
        args.port = Some(port);
    }
    match scenario {
        0 => {
            args.clients = 1;
            args.debug = true;
        }
        _ => {
            args.clients = Input::new().with_prompt("Clients").default(args.clients.max(10)).interact_text()?;
            args.stats = scenario == 2;
        }
    }
    let seconds: u64 = Input::new().with_prompt("Seconds").default(args.duration.as_secs().max(1)).interact_text()?;
    args.duration = Duration::from_secs(seconds.max(1));
    if scenario == 2 && Confirm::new().with_prompt("Publish events to measure latency?").default(false).interact()? {
        args.publish_rate = Some(Input::new().with_prompt("Events per second").default(20.0).interact_text()?);
        let token: String =
            Input::new().with_prompt("API token").default(args.token.clone().unwrap_or_default()).interact_text()?;
        args.token = Some(token);
    }
    Ok(args)
}
