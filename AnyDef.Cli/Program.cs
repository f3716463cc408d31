using System.CommandLine;
using AnyDefNet.Cli;

ExecCommand.Prestart(args);
var root = new RootCommand("AnyDef: functions written once by a language model, run in a Deno + Pyodide sandbox.")
{
    RunCommand.Create(),
    ExecCommand.Create(),
    DoctorCommand.Create(),
    StoreCommand.Create(),
    GenerateCommand.Create(),
    CheckCommand.Create(),
    PackagesCommand.Create(),
    McpCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
